// Test helper process (not used in production): applies a ProcessSpec's security settings to
// itself with applyProcessSecuritySync and execve's process.args on the HOST root, so root tests
// can check ids, capabilities, seccomp and rlimits without the container engine.
//   node -r test/integration/security/ts_register.js exec_with_security.testutil.ts '<json {process, linux}>'
// On failure it prints the error to stderr and exits with 121.
import type { LinuxSpec, ProcessSpec } from '../spec';
import { clearCloexec, clearNonblock, defaultSignal, execve } from '../sys/proc_exec';
import { applyProcessSecuritySync } from './apply';
import { withCompiledSeccomp } from './precompile';

const SIGPIPE = 13;
const SIGXFSZ = 25;

function main(): void {
  const { process: proc, linux } = JSON.parse(process.argv[2] ?? '{}') as {
    process: ProcessSpec;
    linux: LinuxSpec;
  };
  // Compiled here, as the daemon does for a container: the init side only loads programs.
  applyProcessSecuritySync(proc, withCompiledSeccomp(linux));
  for (const fd of [0, 1, 2]) {
    clearCloexec(fd);
    clearNonblock(fd);
  }
  defaultSignal(SIGPIPE);
  defaultSignal(SIGXFSZ);
  execve(proc.args[0], proc.args, proc.env);
}

try {
  main();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(121);
}
