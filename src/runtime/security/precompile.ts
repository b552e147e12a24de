// The daemon's side of seccomp: the filter is compiled here, with the host's libseccomp, and
// travels in the spec as BPF (seccompBpf); the init only loads it (apply.ts refuses a spec
// without it rather than compile inside the container's root).
import type { LinuxSpec, SeccompSpec } from '../spec';
import { compileSeccomp } from './seccomp';

/**
 * A copy of `linux` whose seccomp filter is compiled, so the init never needs libseccomp.
 * `compile` is libseccomp's unless the caller brings its own (the CRI layer passes its host's).
 */
export function withCompiledSeccomp(
  linux: LinuxSpec,
  compile: (spec: SeccompSpec) => Buffer = compileSeccomp,
): LinuxSpec {
  const bpf = linux.seccomp && !linux.seccompBpf ? compile(linux.seccomp) : undefined;
  return bpf ? { ...linux, seccompBpf: bpf.toString('base64') } : linux;
}
