// The bpf(2) calls the cgroup v2 device filter needs: load a program, attach it to a cgroup
// directory, list what is attached, detach. glibc has no bpf() wrapper, so it is syscall(321).
// union bpf_attr is filled as raw bytes (the offsets below are the kernel's UAPI); memory the
// kernel reads or writes through a pointer in it comes from koffi.alloc, whose address is stable.
import koffi from 'koffi';
import { SysError } from './errors';
import { check, libc } from './libc';

const SYS_BPF = 321; // x86_64

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

/** Big enough for every field set here; the kernel requires the bytes it does not know to be zero. */
const ATTR_SIZE = 128;
const LOG_SIZE = 64 * 1024;
const MAX_QUERY_IDS = 64;

const bpfFn = libc.func('syscall', 'long', ['long', 'int', 'void *', 'uint']);

function bpf(cmd: number, attr: Buffer, what: string, path?: string): number {
  return Number(check(what, Number(bpfFn(SYS_BPF, cmd, attr, ATTR_SIZE)), path));
}

/** A program the verifier refused: the message carries the end of its log, which says why. */
class BpfVerifierError extends SysError {
  readonly log: string;
  constructor(errno: number, log: string) {
    super('bpf(PROG_LOAD)', errno);
    this.log = log;
    const tail = log.trim().split('\n').slice(-8).join('\n');
    if (tail) this.message += `; verifier log:\n${tail}`;
  }
}

export interface BpfLoadOptions {
  /** Up to 15 characters, shown by bpftool. */
  name?: string;
  expectedAttachType?: number;
}

/**
 * Loads `insns` (8-byte struct bpf_insn each) as a program of `progType` and returns its fd.
 * A refused program is loaded once more with a verifier log, so the error says why.
 */
export function bpfProgLoad(progType: number, insns: Buffer, opts: BpfLoadOptions = {}): number {
  if (insns.length === 0 || insns.length % 8 !== 0) {
    throw new Error(`Cannot load BPF program: ${insns.length} bytes is not a whole number of instructions`);
  }
  const code = koffi.alloc('uint8_t', insns.length);
  const license = koffi.alloc('uint8_t', 4);
  const log = koffi.alloc('uint8_t', LOG_SIZE);
  try {
    Buffer.from(koffi.view(code, insns.length)).set(insns);
    Buffer.from(koffi.view(license, 4)).set(Buffer.from('GPL\0'));
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(progType, 0);
    attr.writeUInt32LE(insns.length / 8, 4);
    attr.writeBigUInt64LE(koffi.address(code), 8);
    attr.writeBigUInt64LE(koffi.address(license), 16);
    attr.write((opts.name ?? '').slice(0, 15), 48, 'latin1');
    attr.writeUInt32LE(opts.expectedAttachType ?? 0, 68);
    const fd = Number(bpfFn(SYS_BPF, BPF_PROG_LOAD, attr, ATTR_SIZE));
    if (fd >= 0) return fd;
    const errno = koffi.errno();
    if (errno !== 22 /* EINVAL */ && errno !== 13 /* EACCES */) throw new SysError('bpf(PROG_LOAD)', errno);
    // Only the verifier answers EINVAL/EACCES with a log worth reading: ask again with one.
    attr.writeUInt32LE(1, 24);
    attr.writeUInt32LE(LOG_SIZE, 28);
    attr.writeBigUInt64LE(koffi.address(log), 32);
    const retry = Number(bpfFn(SYS_BPF, BPF_PROG_LOAD, attr, ATTR_SIZE));
    if (retry >= 0) return retry;
    const retryErrno = koffi.errno();
    const text = Buffer.from(koffi.view(log, LOG_SIZE)).toString('latin1');
    throw new BpfVerifierError(retryErrno, text.slice(0, Math.max(0, text.indexOf('\0'))));
  } finally {
    koffi.free(code);
    koffi.free(license);
    koffi.free(log);
  }
}

function attachAttr(targetFd: number, progFd: number, attachType: number, flags: number): Buffer {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(targetFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(attachType, 8);
  attr.writeUInt32LE(flags, 12);
  return attr;
}

/** Attaches a loaded program to the cgroup open at `cgroupFd`; `path` only names it in errors. */
export function bpfProgAttach(
  cgroupFd: number,
  progFd: number,
  attachType: number,
  flags = 0,
  path?: string,
): void {
  bpf(BPF_PROG_ATTACH, attachAttr(cgroupFd, progFd, attachType, flags), 'bpf(PROG_ATTACH)', path);
}

export function bpfProgDetach(cgroupFd: number, progFd: number, attachType: number, path?: string): void {
  bpf(BPF_PROG_DETACH, attachAttr(cgroupFd, progFd, attachType, 0), 'bpf(PROG_DETACH)', path);
}

/** Ids of the programs attached to the cgroup itself (not inherited ones) for `attachType`. */
export function bpfProgQuery(cgroupFd: number, attachType: number, path?: string): number[] {
  const ids = koffi.alloc('uint32_t', MAX_QUERY_IDS);
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(cgroupFd, 0);
    attr.writeUInt32LE(attachType, 4);
    attr.writeBigUInt64LE(koffi.address(ids), 16);
    attr.writeUInt32LE(MAX_QUERY_IDS, 24);
    bpf(BPF_PROG_QUERY, attr, 'bpf(PROG_QUERY)', path);
    const count = attr.readUInt32LE(24);
    return Array.from(new Uint32Array(koffi.view(ids, 4 * MAX_QUERY_IDS)).subarray(0, count));
  } finally {
    koffi.free(ids);
  }
}

/** An fd for an attached program, found by id (to detach it). */
export function bpfProgGetFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0);
  return bpf(BPF_PROG_GET_FD_BY_ID, attr, 'bpf(PROG_GET_FD_BY_ID)', `program ${id}`);
}
