// The V8 flags nodelet's long-lived Node processes run with: they cut idle memory (measured in
// docs/benchmarks.md, "Idle memory, process by process"). V8 takes heap sizes only on the command
// line (a flag set later changes nothing), so each process gets them where it is started.
//
// --max-semi-space-size=1: the young generation is two semi-spaces that grow to 8 MB each under
//   allocation and are kept once grown (the daemon's grew at start-up while loading the CRI's
//   protos): 1 MB caps about 10 MB of resident memory per process, for more frequent, and each
//   cheaper, scavenges.
// Not --lite-mode (2-4 MB less per process): with it on the monitor and keeper, an exit code was
//   lost when the daemon and then the monitor were killed (test/integration/monitor/restart.test.ts,
//   2 runs of 2): a race that their slower JavaScript widens, not yet understood.

/** The daemon's (applied by re-executing itself, src/cli/node_flags_exec.ts). */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** The monitor's and the keeper's (on their spawn's command line). */
export const MONITOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * The flags that `wanted` sets and `current` (a process.execArgv) does not: a flag named on the
 * command line already (another --max-semi-space-size, say) is the caller's choice and stays.
 */
export function missingNodeFlags(wanted: readonly string[], current: readonly string[]): string[] {
  const name = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-');
  const named = new Set(current.map(name));
  return wanted.filter((flag) => !named.has(name(flag)));
}
