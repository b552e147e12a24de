// One agent node of a real cluster for root tests: a test registry, a nodelet daemon from dist/, a
// kube-apiserver with etcd (control_plane.ts) and `nodelet agent --kubeconfig` as the node's identity,
// each in its own temp roots; stop() undoes all of it (pods, mounts, cgroups, processes). kubectl,
// getPod and waitFor carry the agent's log tail in their errors, so a failure says what the node saw.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroupTree, unmountUnder } from './containerd';
import { ControlPlane, startControlPlane } from './control_plane';
import { removeAllPods } from './cri_client';
import { startDaemon, TestDaemon } from './daemon';
import { spawnAgent, stopAgent } from './agent_process';
import { startRegistry, TestRegistry } from './registry';

export interface ConnectedNode {
  name: string;
  cp: ControlPlane;
  daemon: TestDaemon;
  /** The agent's --root-dir. */
  rootDir: string;
  /** The agent's pods' cgroup root (its --cgroup-root). */
  cgroupRoot: string;
  log(): string;
  /** kubectl as admin; throws with stderr and the agent's log tail when it fails. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** The pod as JSON, or undefined when the API has none. */
  getPod<T = KubePod>(name: string, namespace?: string): Promise<T | undefined>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface KubePod {
  metadata: { uid: string; name: string };
  spec: Record<string, unknown>;
  status: {
    phase: string;
    reason?: string;
    message?: string;
    podIP?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: KubeContainerStatus[];
    ephemeralContainerStatuses?: KubeContainerStatus[];
  };
}

export interface KubeContainerStatus {
  name: string;
  containerID?: string;
  restartCount: number;
  ready: boolean;
  state: Record<string, { reason?: string; message?: string; exitCode?: number } | undefined>;
  resources?: Record<string, Record<string, string>>;
  allocatedResources?: Record<string, string>;
}

/** Starts the node; `prefix` names its temp dirs, node and cgroup root (with the test's pid). */
export async function startConnectedNode(prefix: string, agentFlags: string[] = []): Promise<ConnectedNode> {
  const name = `${prefix}-${process.pid}`;
  const cgroupRoot = `/${name}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  fs.mkdirSync(path.join(dir, 'manifests'));
  let registry: TestRegistry | undefined;
  let daemon: TestDaemon | undefined;
  let cp: ControlPlane | undefined;
  let agent: ChildProcess | undefined;
  let agentLog = '';
  const stop = async () => {
    await cp
      ?.kubectl(['delete', 'pod', '--all', '-A', '--wait=true', '--timeout=60s'])
      .catch(() => undefined);
    await stopConnectedParts({ agent, daemon, registry, cp, dir, cgroupRoot });
  };
  try {
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 180_000 });
    // Generous: on a loaded 2-core machine the apiserver alone takes minutes to be ready.
    cp = await startControlPlane({ timeoutMs: 300_000 });
    agent = spawnAgent(
      { dir, endpoint: daemon.endpoint, cgroupRoot, node: name },
      [
        ...['--kubeconfig', cp.kubeconfigFor(`system:node:${name}`, ['system:nodes'])],
        ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
        ...['--client-ca-file', cp.kubeletClient.caFile],
        ...agentFlags,
      ],
      (chunk) => (agentLog += chunk),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const theCp = cp;
  const kubectl = async (args: string[], input?: string) => {
    const r = await theCp.kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}\n${agentLog.slice(-3000)}`);
    return r.stdout;
  };
  return {
    name,
    cp: theCp,
    daemon,
    rootDir: path.join(dir, 'root'),
    cgroupRoot,
    log: () => agentLog,
    kubectl,
    async getPod<T>(pod: string, namespace = 'default') {
      const r = await theCp.kubectl(['get', 'pod', '-n', namespace, pod, '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
    },
    async waitFor(what, probe, timeoutMs = 300_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const v = await probe();
        if (v) return v;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    stop,
  };
}

/**
 * Undoes what a connected-node test started, whichever parts it got to: the agent first (so it
 * restarts nothing), the pods, the daemon, the registry and control plane, then the roots' mounts,
 * the roots and the pods' cgroup tree.
 */
export async function stopConnectedParts(parts: {
  agent?: ChildProcess;
  daemon?: TestDaemon;
  registry?: TestRegistry;
  cp?: ControlPlane;
  dir?: string;
  cgroupRoot: string;
}): Promise<void> {
  const { agent, daemon, registry, cp, dir, cgroupRoot } = parts;
  if (agent) await stopAgent(agent);
  if (daemon) await removeAllPods(daemon.endpoint);
  await daemon?.stop();
  await daemon?.cleanup();
  await registry?.stop();
  await cp?.stop();
  if (dir) {
    await unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  removeCgroupTree(cgroupRoot);
}
