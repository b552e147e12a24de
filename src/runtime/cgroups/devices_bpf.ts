// The device allow-list on cgroup v2, which has no devices file: an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup (as runc and crun do). The kernel
// runs it on every open and mknod of a device node by a task of the cgroup (or a child): 0 denies
// with EPERM, 1 allows. The kernel also runs it on hybrid hosts, for tasks in the cgroup2 mount.
//
// The rules mean what they mean for the v1 devices controller: a rule for every device ("a *:*
// rwm") resets the list and sets the default; other rules are exceptions, the last one that
// matches decides. Same-device exceptions are merged first, so "c 1:3 r" then "c 1:3 w" allows rw
// and a later deny takes its letters away from earlier allows of that device.
import fs from 'node:fs';
import type { DeviceRule } from '../spec/types';
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgAttach,
  bpfProgDetach,
  bpfProgGetFdById,
  bpfProgLoad,
  bpfProgQuery,
} from '../sys';
import { aluImm, encode, exit, jmpImm, jmpReg, ldxW, movReg, OP, type Insn } from './ebpf_asm';
import { controlError } from './files';

// struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;
export const DEV_BLOCK = 1;
export const DEV_CHAR = 2;
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;
const ACC_ALL = ACC_MKNOD | ACC_READ | ACC_WRITE;

/** One exception after merging: undefined type/major/minor mean any. */
interface Exception {
  allow: boolean;
  type?: number;
  major?: number;
  minor?: number;
  access: number;
}

export interface DeviceFilter {
  defaultAllow: boolean;
  /** In rule order: the last that matches decides. */
  exceptions: Exception[];
}

function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const c of access || 'rwm') {
    if (c === 'r') bits |= ACC_READ;
    else if (c === 'w') bits |= ACC_WRITE;
    else if (c === 'm') bits |= ACC_MKNOD;
    else throw new Error(`Cannot build a device filter: access '${access}' is not made of r, w and m`);
  }
  return bits;
}

const wildcard = (n: number | undefined) => (n === undefined || n < 0 ? undefined : n);

/** The rule list reduced to a default and the exceptions that can still decide. */
export function deviceFilterOf(rules: readonly DeviceRule[]): DeviceFilter {
  let filter: DeviceFilter = { defaultAllow: false, exceptions: [] };
  for (const rule of rules) {
    const type = rule.type === 'c' ? DEV_CHAR : rule.type === 'b' ? DEV_BLOCK : undefined;
    const major = wildcard(rule.major);
    const minor = wildcard(rule.minor);
    const access = accessBits(rule.access);
    if (type === undefined && major === undefined && minor === undefined && access === ACC_ALL) {
      filter = { defaultAllow: rule.allow, exceptions: [] };
      continue;
    }
    const same = (e: Exception) => e.type === type && e.major === major && e.minor === minor;
    let merged = access;
    const kept: Exception[] = [];
    for (const e of filter.exceptions) {
      if (!same(e)) kept.push(e);
      else if (e.allow === rule.allow) merged |= e.access;
      else if ((e.access & ~access) !== 0) kept.push({ ...e, access: e.access & ~access });
    }
    filter = { ...filter, exceptions: [...kept, { allow: rule.allow, type, major, minor, access: merged }] };
  }
  return filter;
}

/**
 * The program: load the context into r2 (type), r3 (access), r4 (major), r5 (minor), then one
 * block per exception, last rule first, each jumping to the next block when it does not match.
 */
export function deviceFilterProgram(rules: readonly DeviceRule[]): Insn[] {
  const filter = deviceFilterOf(rules);
  const program: Insn[] = [
    ldxW(2, 1, CTX_ACCESS_TYPE),
    aluImm(OP.AND, 2, 0xffff),
    ldxW(3, 1, CTX_ACCESS_TYPE),
    aluImm(OP.RSH, 3, 16),
    ldxW(4, 1, CTX_MAJOR),
    ldxW(5, 1, CTX_MINOR),
  ];
  for (const e of [...filter.exceptions].reverse()) program.push(...block(e));
  program.push(aluImm(OP.MOV, 0, filter.defaultAllow ? 1 : 0), exit());
  return program;
}

/** Placeholder offset of a jump to the next block, fixed up once the block's length is known. */
const TO_NEXT = 0x7fff;

/** One exception's test, then its verdict. */
function block(e: Exception): Insn[] {
  const tests: Insn[][] = [];
  if (e.type !== undefined) tests.push([jmpImm(OP.JNE, 2, e.type, TO_NEXT)]);
  if (e.allow && e.access !== ACC_ALL) {
    // An allow matches when every requested letter is allowed: (access & allowed) == access.
    tests.push([movReg(1, 3), aluImm(OP.AND, 1, e.access), jmpReg(OP.JNE, 1, 3, TO_NEXT)]);
  } else if (!e.allow && e.access !== ACC_ALL) {
    // A deny matches when any requested letter is denied.
    tests.push([movReg(1, 3), aluImm(OP.AND, 1, e.access), jmpImm(OP.JEQ, 1, 0, TO_NEXT)]);
  }
  if (e.major !== undefined) tests.push([jmpImm(OP.JNE, 4, e.major, TO_NEXT)]);
  if (e.minor !== undefined) tests.push([jmpImm(OP.JNE, 5, e.minor, TO_NEXT)]);
  const body = [...tests.flat(), aluImm(OP.MOV, 0, e.allow ? 1 : 0), exit()];
  // A jump at index i to the next block skips the rest of this one.
  return body.map((insn, i) => (insn.off === TO_NEXT ? { ...insn, off: body.length - i - 1 } : insn));
}

/** The kernel side, injectable so the manager's unit tests run on a temp dir. */
export interface DeviceFilterAttacher {
  /** Makes `rules` the device filter of the cgroup directory, replacing what nodelet attached before. */
  attach(cgroupDir: string, rules: readonly DeviceRule[]): void;
}

export const bpfDeviceFilter: DeviceFilterAttacher = { attach: attachDeviceFilter };

/**
 * Loads the program and attaches it with BPF_F_ALLOW_MULTI, then detaches the programs that were
 * there before: the cgroup is never without a filter in between (runc does the same).
 */
export function attachDeviceFilter(cgroupDir: string, rules: readonly DeviceRule[]): void {
  const insns = encode(deviceFilterProgram(rules));
  const dirFd = openDir(cgroupDir);
  try {
    const before = bpfProgQuery(dirFd, BPF_CGROUP_DEVICE, cgroupDir);
    const progFd = bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, insns, {
      name: 'nodelet_devices',
      expectedAttachType: BPF_CGROUP_DEVICE,
    });
    try {
      bpfProgAttach(dirFd, progFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, cgroupDir);
    } finally {
      // The attachment holds its own reference to the program.
      fs.closeSync(progFd);
    }
    detachIds(dirFd, before, cgroupDir);
  } finally {
    fs.closeSync(dirFd);
  }
}

/** Detaches every device program of the cgroup (rmdir of the cgroup also releases them). */
export function detachDeviceFilters(cgroupDir: string): void {
  const dirFd = openDir(cgroupDir);
  try {
    detachIds(dirFd, bpfProgQuery(dirFd, BPF_CGROUP_DEVICE, cgroupDir), cgroupDir);
  } finally {
    fs.closeSync(dirFd);
  }
}

function detachIds(dirFd: number, ids: number[], cgroupDir: string): void {
  for (const id of ids) {
    const fd = bpfProgGetFdById(id);
    try {
      bpfProgDetach(dirFd, fd, BPF_CGROUP_DEVICE, cgroupDir);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function openDir(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    throw controlError(err, `open cgroup '${dir}' to attach its device filter`);
  }
}
