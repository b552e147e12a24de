// libseccomp (libseccomp.so.2, Debian's libseccomp2, no -dev needed) turns rules into a BPF program.
// nodelet only uses it to COMPILE: the program is exported as raw sock_filter bytes and loaded later
// by seccompSetFilter, so the container init never needs the library. libseccomp returns negative
// errno values instead of setting errno.
import fs from 'node:fs';
import koffi from 'koffi';
import { SysError } from './errors';
import { check, libc } from './libc';

type Fn = (...args: unknown[]) => unknown;
interface LibSeccomp {
  init: Fn;
  archAdd: Fn;
  resolveName: Fn;
  resolveNum: Fn;
  ruleAddArray: Fn;
  attrSet: Fn;
  exportBpf: Fn;
  release: Fn;
}

let lib: LibSeccomp | undefined;

function load(): LibSeccomp {
  if (lib) return lib;
  let so: koffi.IKoffiLib;
  try {
    so = koffi.load('libseccomp.so.2');
  } catch (err) {
    throw new Error(`Cannot load libseccomp.so.2: ${(err as Error).message} (install Debian's libseccomp2)`);
  }
  lib = {
    init: so.func('void *seccomp_init(uint32_t defAction)'),
    archAdd: so.func('int seccomp_arch_add(void *ctx, uint32_t arch)'),
    resolveName: so.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNum: so.func('void *seccomp_syscall_resolve_num_arch(uint32_t arch, int num)'),
    ruleAddArray: so.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int nr, unsigned int count, const void *args)',
    ),
    attrSet: so.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    exportBpf: so.func('int seccomp_export_bpf(void *ctx, int fd)'),
    release: so.func('void seccomp_release(void *ctx)'),
  };
  return lib;
}

const free = libc.func('void free(void *ptr)');
const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
const MFD_CLOEXEC = 1;

function ok(call: string, ret: number, what?: string): number {
  if (ret < 0) throw new SysError(call, -ret, what);
  return ret;
}

/** One argument comparison, as libseccomp's struct scmp_arg_cmp. */
export interface ScmpArgCmp {
  arg: number;
  /** SCMP_CMP_NE=1 … SCMP_CMP_MASKED_EQ=7 */
  op: number;
  datumA: bigint;
  datumB: bigint;
}

/** An open libseccomp filter context; call release() when done (also after a failure). */
export class SeccompContext {
  private readonly lib = load();
  private ctx: unknown;

  constructor(defaultAction: number) {
    this.ctx = this.lib.init(defaultAction);
    if (!this.ctx) throw new Error('Cannot create seccomp filter: seccomp_init failed');
  }

  addArch(arch: number): void {
    const ret = this.lib.archAdd(this.ctx, arch) as number;
    // EEXIST: the native arch is always present already.
    if (ret !== -17) ok('seccomp_arch_add', ret, `0x${arch.toString(16)}`);
  }

  /** The syscall number for `name` on the native arch, or undefined if libseccomp does not know it. */
  resolve(name: string): number | undefined {
    const nr = this.lib.resolveName(name) as number;
    return nr === -1 ? undefined : nr;
  }

  /** The name libseccomp gives native syscall `nr`, or undefined if it does not know it. */
  nameOf(nr: number): string | undefined {
    const ptr = this.lib.resolveNum(0 /* SCMP_ARCH_NATIVE */, nr);
    if (!ptr) return undefined;
    try {
      return koffi.decode(ptr, 'char', -1) as string;
    } finally {
      free(ptr);
    }
  }

  /** Attribute ids: SCMP_FLTATR_CTL_NNP=3, CTL_TSYNC=4, CTL_OPTIMIZE=8. */
  setAttr(attr: number, value: number): void {
    ok('seccomp_attr_set', this.lib.attrSet(this.ctx, attr, value) as number, String(attr));
  }

  addRule(action: number, nr: number, args: readonly ScmpArgCmp[], name: string): void {
    const buf = Buffer.alloc(24 * Math.max(args.length, 1));
    args.forEach((a, i) => {
      buf.writeUInt32LE(a.arg, i * 24);
      buf.writeInt32LE(a.op, i * 24 + 4);
      buf.writeBigUInt64LE(a.datumA, i * 24 + 8);
      buf.writeBigUInt64LE(a.datumB, i * 24 + 16);
    });
    ok('seccomp_rule_add', this.lib.ruleAddArray(this.ctx, action, nr, args.length, buf) as number, name);
  }

  /** The compiled program: struct sock_filter[] as raw bytes. */
  exportBpf(): Buffer {
    const fd = check('memfd_create', memfdCreate('nodelet-seccomp', MFD_CLOEXEC) as number);
    try {
      ok('seccomp_export_bpf', this.lib.exportBpf(this.ctx, fd) as number);
      const size = fs.fstatSync(fd).size;
      const out = Buffer.alloc(size);
      let done = 0;
      while (done < size) done += fs.readSync(fd, out, done, size - done, done);
      return out;
    } finally {
      fs.closeSync(fd);
    }
  }

  release(): void {
    if (this.ctx) this.lib.release(this.ctx);
    this.ctx = undefined;
  }
}
