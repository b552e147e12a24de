// Compiling a SeccompSpec to BPF with libseccomp rather than by hand, because libseccomp does the
// parts that are easy to get subtly wrong: the architecture check (and x32, which shares x86_64's
// arch value), 64-bit argument comparisons split into two 32-bit loads, syscall numbers per
// sub-architecture (i386 and x32 numbers differ), and, with optimize level 2, a binary tree over
// syscall numbers instead of a linear chain. The cost: a native dependency (libseccomp2, present
// on every container host) and ~50-70 ms per RuntimeDefault compile here, paid once per distinct
// spec in the daemon (cached below); the init only loads the finished program.
import { invalidArgument, unimplemented } from '../../../common/errors';
import type { SeccompAction, SeccompOperator, SeccompSpec } from '../../spec';
import { SeccompContext, type ScmpArgCmp } from '../../sys/libseccomp';

const EPERM = 1;

const ARCHES: Record<string, number> = {
  SCMP_ARCH_X86_64: 0xc000003e,
  SCMP_ARCH_X86: 0x40000003,
  SCMP_ARCH_X32: 0x4000003e,
  SCMP_ARCH_AARCH64: 0xc00000b7,
  SCMP_ARCH_ARM: 0x40000028,
};
// Only the arches this host can run: a profile's foreign arches (mips, s390, …) are skipped.
const HOST_ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

const OPS: Record<SeccompOperator, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

const SCMP_FLTATR_CTL_OPTIMIZE = 8;

/** The seccomp return value for an action (linux/seccomp.h SECCOMP_RET_*). */
export function actionValue(action: SeccompAction, errnoRet?: number): number {
  const data = (errnoRet ?? EPERM) & 0xffff;
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0x00000000;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | data) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | data) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    case 'SCMP_ACT_NOTIFY':
      throw unimplemented('Cannot use seccomp action SCMP_ACT_NOTIFY: user notification is not implemented');
    default:
      throw invalidArgument(`Cannot use seccomp action '${String(action)}': unknown action`);
  }
}

const ALLOWING = new Set<SeccompAction>(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']);
const ENOSYS = 38;
const HIGHEST_SYSCALL = 511; // x86_64 numbers stop below 512; 512+ are x32-only

/**
 * As runc does: syscalls newer than every syscall the profile names answer ENOSYS, not the
 * default EPERM, so a new libc falls back to the older call (glibc tries fchmodat2, clone3, …
 * first and only falls back on ENOSYS). Limited to syscalls libseccomp knows by number.
 */
function addEnosysStubs(ctx: SeccompContext, named: Set<number>, defaultAction: number): void {
  const enosys = actionValue('SCMP_ACT_ERRNO', ENOSYS);
  if (named.size === 0 || enosys === defaultAction) return;
  const newest = Math.max(...named);
  for (let nr = newest + 1; nr <= HIGHEST_SYSCALL; nr++) {
    const name = ctx.nameOf(nr);
    if (name !== undefined) ctx.addRule(enosys, ctx.resolve(name)!, [], name);
  }
}

type Rule = SeccompSpec['syscalls'][number];

function conditions(rule: Rule): ScmpArgCmp[][] {
  const args = (rule.args ?? []).map((a) => ({
    arg: a.index,
    op: OPS[a.op],
    datumA: BigInt.asUintN(64, BigInt(a.value)),
    datumB: BigInt.asUintN(64, BigInt(a.valueTwo ?? 0)),
  }));
  if (args.some((a) => a.op === undefined))
    throw invalidArgument(`Cannot compile seccomp rule for ${rule.names}`);
  // libseccomp refuses two comparisons of one argument in a rule; like runc, each becomes its own
  // rule (so they are OR-ed).
  const indexes = args.map((a) => a.arg);
  if (new Set(indexes).size !== indexes.length) return args.map((a) => [a]);
  return [args];
}

// Compiling RuntimeDefault takes tens of milliseconds and nearly every container asks for one of
// a few specs: keep the latest programs by content.
const cache = new Map<string, Buffer>();
const CACHE_SIZE = 16;

/** The BPF program (struct sock_filter[]) for `spec`, ready for seccompSetFilter. */
export function compileSeccomp(spec: SeccompSpec, hostArch: string = process.arch): Buffer {
  const key = `${hostArch}\n${JSON.stringify(spec)}`;
  const hit = cache.get(key);
  if (hit) return Buffer.from(hit);
  const program = compileUncached(spec, hostArch);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, program);
  return Buffer.from(program);
}

function compileUncached(spec: SeccompSpec, hostArch: string): Buffer {
  const defaultAction = actionValue(spec.defaultAction, spec.defaultErrnoRet);
  const ctx = new SeccompContext(defaultAction);
  try {
    const usable = HOST_ARCHES[hostArch] ?? [];
    for (const arch of spec.architectures) if (usable.includes(arch)) ctx.addArch(ARCHES[arch]);
    ctx.setAttr(SCMP_FLTATR_CTL_OPTIMIZE, 2);
    const named = new Set<number>();
    for (const rule of spec.syscalls) {
      const action = actionValue(rule.action, rule.errnoRet);
      for (const name of rule.names) {
        const nr = ctx.resolve(name);
        if (nr === undefined) continue; // unknown to libseccomp on this arch: the default applies
        if (nr >= 0) named.add(nr);
        if (action === defaultAction) continue; // libseccomp refuses rules that repeat the default
        for (const args of conditions(rule)) ctx.addRule(action, nr, args, name);
      }
    }
    if (!ALLOWING.has(spec.defaultAction)) addEnosysStubs(ctx, named, defaultAction);
    return ctx.exportBpf();
  } finally {
    ctx.release();
  }
}
