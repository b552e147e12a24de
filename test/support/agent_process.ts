// `nodelet agent` from dist/ as the root tests run it: its pod directories under one temp dir
// (manifests/, root/, logs/, containers/), its pods' cgroups under a test-only root, manifests rescanned every
// second. Tests add the flags of their own case.
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { NODELET_BIN } from './daemon';

export interface AgentArgs {
  dir: string;
  endpoint: string;
  cgroupRoot: string;
  node?: string;
}

export function agentArgs(a: AgentArgs): string[] {
  return [
    NODELET_BIN,
    'agent',
    ...['--pod-manifest-path', path.join(a.dir, 'manifests'), '--container-runtime-endpoint', a.endpoint],
    ...['--root-dir', path.join(a.dir, 'root'), '--pod-logs-dir', path.join(a.dir, 'logs')],
    // Never the host's /var/log/containers: other nodes' links live there.
    ...['--container-logs-dir', path.join(a.dir, 'containers')],
    ...['--cgroup-root', a.cgroupRoot, '--file-check-frequency', '1s'],
    ...(a.node ? ['--hostname-override', a.node] : []),
  ];
}

/** Spawns the agent with those flags and more; its stderr (the log) goes to `onLog`. */
export function spawnAgent(a: AgentArgs, extra: string[], onLog: (chunk: string) => void): ChildProcess {
  const child = spawn(process.execPath, [...agentArgs(a), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => onLog(d.toString()));
  return child;
}

/** SIGTERM, then its exit code (at once if it already ended). */
export function stopAgent(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
