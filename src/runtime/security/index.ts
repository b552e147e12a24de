// Security of a container process: who it runs as, what it may do (capabilities, seccomp,
// no_new_privs), its rlimits, and which sysctls its pod may set.
//
//   resolveUser(rootfsDir | etcFiles, req) → UserSpec (image's /etc/passwd + /etc/group, read inside the rootfs)
//   containerUserStatus(user) → ContainerStatus.user
//   capabilitiesFor({ add, drop, addAmbient, privileged, uid }) → CapabilitySets
//   runtimeDefaultSeccomp(caps?) / loadSeccompProfile(path, caps?) → SeccompSpec
//   seccompFor(criProfile, privileged, caps, load?) → SeccompSpec | undefined
//   compileSeccomp(spec) → Buffer (sock_filter[]); withCompiledSeccomp(linux, compile?) fills linux.seccompBpf
//   validateSysctls(sysctls, { hostNetwork, hostIpc }) → normalized sysctls, or InvalidArgument
//   makePrivileged(spec) / hostDevices()               (host devices, no masking, rw /sys, no seccomp)
//   applyProcessSecuritySync(process, linux)           (the init, last step before execve)
//
// The daemon must call withCompiledSeccomp(spec.linux) before handing a spec to the init: the init
// refuses a seccomp filter without its BPF (after pivot_root, libseccomp.so.2 would be the image's).
export {
  resolveUser,
  etcFilesIn,
  containerUserStatus,
  type EtcFiles,
  type UserRequest,
  type SupplementalGroupsPolicy,
} from './user';
export { capabilitiesFor, DEFAULT_CAPABILITIES, type CapabilityRequest } from './capabilities';
export { CAP_NAMES, normalizeCapName, lastCap } from './cap_names';
export { runtimeDefaultSeccomp, loadSeccompProfile, seccompFor, compileSeccomp } from './seccomp';
export { validateSysctls, normalizeSysctlName, type SysctlContext } from './sysctls';
export { clampRlimit, rlimitValue } from './rlimits';
export { applyProcessSecuritySync, seccompProgram } from './apply';
export { withCompiledSeccomp } from './precompile';
export { makePrivileged, hostDevices } from './privileged';
