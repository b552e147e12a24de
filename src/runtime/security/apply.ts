// The container init's last step before execve: turn the root-owned Node process into the
// workload's identity, in the order runc uses, because each step needs privileges a later one
// takes away:
//   1. rlimits            (raising needs CAP_SYS_RESOURCE: clamped to the current hard limit)
//   2. seccomp, if no_new_privs is off (loading a filter without NNP needs CAP_SYS_ADMIN)
//   3. bounding set drop  (PR_CAPBSET_DROP needs CAP_SETPCAP, so before capset)
//   4. KEEPCAPS, setgroups, setresgid, setresuid, KEEPCAPS off (the ids need CAP_SETUID/SETGID)
//   5. capset to the final effective/permitted/inheritable sets, then the ambient set
//   6. no_new_privs
//   7. seccomp, if no_new_privs is on (as late as possible: only execve runs under it)
// Capabilities the node itself lacks (here CAP_SYS_RESOURCE) are left out, as containerd does for
// privileged containers, instead of failing the container.
import { messageOf } from '../../common/errors';
import type { CapabilitySets, LinuxSpec, ProcessSpec } from '../spec';
// sys files are imported one by one (not through sys/index) so the init loads only the bindings
// it calls, and a broken binding elsewhere cannot stop a container from starting.
import {
  ambientClearAll,
  ambientRaise,
  capBoundingDrop,
  capBoundingHas,
  capGet,
  capSet,
  setKeepCaps,
  setNoNewPrivs,
} from '../sys/caps';
import { setGroups, setResGid, setResUid } from '../sys/creds';
import {
  seccompSetFilter,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
} from '../sys/seccomp';
import { getRlimit, setRlimit } from '../sys/rlimit_prctl';
import { capMask, capNumber, lastCap } from './cap_names';
import { clampRlimit, rlimitResource } from './rlimits';

const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
};

function step<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`Cannot ${what} for the container process: ${messageOf(err)}`, { cause: err });
  }
}

/**
 * The BPF to load: only the program the daemon compiled. The init never compiles one itself:
 * after pivot_root, loading libseccomp.so.2 would load the CONTAINER's copy, running the image's
 * code as root with every capability; a filter that was asked for and is missing fails closed.
 */
export function seccompProgram(linux: LinuxSpec): Buffer | undefined {
  if (linux.seccompBpf) return Buffer.from(linux.seccompBpf, 'base64');
  if (linux.seccomp) throw new Error('the seccomp filter was not compiled (no seccompBpf in the spec)');
  return undefined;
}

// TSYNC puts every thread of the init under the filter, not just this one: glibc changes ids on
// all threads (setxid broadcast) and aborts the process if one thread succeeds where another is
// refused, so a filter that denies setresuid must deny it everywhere to fail cleanly.
function loadSeccomp(program: Buffer, linux: LinuxSpec): void {
  let flags = SECCOMP_FILTER_FLAG_TSYNC;
  for (const name of linux.seccomp?.flags ?? []) {
    if (FILTER_FLAGS[name] === undefined) throw new Error(`unknown seccomp flag '${name}'`);
    flags |= FILTER_FLAGS[name];
  }
  seccompSetFilter(program, flags);
}

function applyRlimits(process: ProcessSpec): void {
  for (const limit of process.rlimits) {
    step(`set ${limit.type}`, () => {
      const resource = rlimitResource(limit.type);
      const { soft, hard } = clampRlimit(limit, getRlimit(resource).hard);
      setRlimit(resource, soft, hard);
    });
  }
}

function dropBounding(caps: CapabilitySets, last: number): void {
  const keep = capMask(caps.bounding);
  for (let cap = 0; cap <= last; cap++) {
    if ((keep & (1n << BigInt(cap))) === 0n && capBoundingHas(cap)) capBoundingDrop(cap);
  }
}

function setCapabilities(caps: CapabilitySets, heldPermitted: bigint): void {
  // Only what we hold can be granted; the rest (e.g. CAP_SYS_RESOURCE here) is left out.
  const bounding = capMask(caps.bounding);
  const within = (names: string[]) => capMask(names) & heldPermitted & bounding;
  capSet({
    effective: within(caps.effective),
    permitted: within(caps.permitted),
    inheritable: within(caps.inheritable),
  });
  ambientClearAll();
  for (const name of caps.ambient) {
    const cap = capNumber(name);
    if ((heldPermitted & bounding & (1n << BigInt(cap))) !== 0n) ambientRaise(cap);
  }
}

/**
 * Applies rlimits, identity, capabilities, no_new_privs and seccomp to the calling thread/process.
 * Call on the init's main thread, right before execve; throws "Cannot <step> …" on any failure.
 * `process.capabilities` undefined leaves the capability sets as they are (as runc does).
 */
export function applyProcessSecuritySync(process: ProcessSpec, linux: LinuxSpec): void {
  applyRlimits(process);
  const program = step('load the seccomp filter', () => seccompProgram(linux));
  if (program && !process.noNewPrivileges) step('load the seccomp filter', () => loadSeccomp(program, linux));

  const caps = process.capabilities;
  const heldPermitted = capGet().permitted;
  if (caps) step('drop bounding capabilities', () => dropBounding(caps, lastCap()));

  const { uid, gid, additionalGids } = process.user;
  step('keep capabilities across the uid change', () => setKeepCaps(true));
  step(`set supplementary groups [${additionalGids.join(',')}]`, () => setGroups(additionalGids));
  step(`set gid ${gid}`, () => setResGid(gid));
  step(`set uid ${uid}`, () => setResUid(uid));
  step('reset keep-capabilities', () => setKeepCaps(false));

  if (caps) step('set capabilities', () => setCapabilities(caps, heldPermitted));
  if (process.noNewPrivileges) step('set no_new_privs', () => setNoNewPrivs());
  if (program && process.noNewPrivileges) step('load the seccomp filter', () => loadSeccomp(program, linux));
}
