// Imported FIRST by the container init and the exec helper, for its effect: they are the host's
// `node` binary, running as root, visible to the container's processes (the init to a sibling in
// a pod-shared PID namespace, the exec helper to the container it enters) until they execve.
// Non-dumpable, their /proc/<pid>/exe, fd/, map_files/, root, cwd and mem need CAP_SYS_PTRACE,
// which a container does not have by default (CVE-2019-5736: /proc/<pid>/exe opened from inside
// is the host's binary, to run or, once nothing executes it, to overwrite). Until this line runs,
// the helper holds every capability, and the kernel's capability check already keeps a less
// privileged process out; the window that matters is after the capabilities are lowered to the
// container's and before execve, which is when a container root would pass that check.
// execve resets dumpable, so the workload's own /proc/self works as usual.
import { PR_SET_DUMPABLE, prctl } from '../sys/rlimit_prctl';

prctl(PR_SET_DUMPABLE, 0);
