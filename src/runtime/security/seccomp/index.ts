// Seccomp: profiles (RuntimeDefault, Localhost JSON, Unconfined) and their compilation to BPF.
export { runtimeDefaultSeccomp, loadSeccompProfile, seccompFor } from './profiles';
export { compileSeccomp, actionValue } from './compile';
export { reduceProfile, type DockerSeccompProfile, type DockerSeccompRule } from './docker_profile';
