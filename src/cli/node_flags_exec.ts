// `nodelet daemon` is started as `node dist/cli/main.js daemon` by whoever runs it (a service
// unit, scripts/cluster.sh, the tests), and V8 takes heap sizes only on Node's command line. So a
// daemon started without its flags replaces itself, before it loads anything else, with
// `node <its flags> <the same arguments>`: execve keeps the pid, fds 0-2 and the environment,
// so a supervisor sees the same process. It costs one Node start-up (tens of ms) at daemon start.
import { missingNodeFlags } from '../common/node_flags';
import { clearCloexec, execve } from '../runtime/sys';

/** Returns only when nothing is missing; otherwise the process image is replaced. */
export function execWithNodeFlags(wanted: readonly string[]): void {
  // A flag in NODE_OPTIONS counts as given: the command line would override it.
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean)];
  const missing = missingNodeFlags(wanted, given);
  if (missing.length === 0) return;
  // Node marks fds 0-2 close-on-exec at start; the next Node must get the same stdio.
  for (const fd of [0, 1, 2]) clearCloexec(fd);
  const env = Object.entries(process.env).map(([key, value]) => `${key}=${value ?? ''}`);
  execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)],
    env,
  );
}
