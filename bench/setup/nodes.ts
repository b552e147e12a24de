// A whole node for the node suite: a kubelet (the upstream one, standalone, as test/e2e/kubelet
// starts it) or `nodelet agent`, over one of the bench's runtimes. Each reads static pods from its
// own manifest directory and serves the kubelet API on loopback (anonymous, AlwaysAllow), where
// the suite reads /pods and /metrics the same way for all of them.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentArgs, stopAgent } from '../../test/support/agent_process';
import { removeCgroupTree, unmountUnder } from '../../test/support/containerd';
import { removeAllPods } from '../../test/support/cri_client';
import { kubeletGet } from '../../test/support/kubelet_api_client';
import { freePort, startKubelet } from '../../test/e2e/kubelet/kubelet';
import type { Peer } from './peers';

export interface BenchNode {
  /** "kubelet + containerd", "agent + nodelet", … */
  label: string;
  /** Writes a static pod manifest whole (a temp name the node ignores, then a rename). */
  addManifest(name: string, yaml: string): void;
  /** GET on the node's kubelet API: the body of a 200. */
  get(pathname: string): Promise<string>;
  /** Pids whose trees make up the whole node: kubelet or agent, and the runtime's. */
  rootPids(): number[];
  /** Stops the node and removes all it made: pods (through the CRI), mounts, cgroups, files. */
  stop(): Promise<void>;
}

/** The upstream kubelet on `peer`, run from `binary` (a copy of its own, so no page is shared). */
export async function startKubeletNode(peer: Peer, binary: string): Promise<BenchNode> {
  const kubelet = await startKubelet({ endpoint: peer.endpoint, binary });
  return {
    label: `kubelet + ${peer.name}`,
    addManifest: kubelet.addManifest,
    get: (pathname) => kubeletGet(kubelet.port, pathname),
    rootPids: () => [kubelet.proc.pid!, ...peer.rootPids()],
    stop: () => kubelet.stop(),
  };
}

/** `nodelet agent` from dist/ on `peer`, run by the node binary `execPath` (its daemon's). */
export async function startAgentNode(peer: Peer, execPath: string): Promise<BenchNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-agent-'));
  for (const d of ['manifests', 'root', 'logs', 'containers']) fs.mkdirSync(path.join(dir, d));
  const cgroupRoot = `/nodelet-bench-agent-${crypto.randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const args = [
    ...agentArgs({ dir, endpoint: peer.endpoint, cgroupRoot }),
    ...['--address', '127.0.0.1', '--port', String(port), '--anonymous-auth=true'],
  ];
  const log = fs.openSync(path.join(dir, 'agent.log'), 'a');
  const child = spawn(execPath, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const get = (pathname: string) => kubeletGet(port, pathname);
  const stop = async () => {
    await stopAgent(child);
    await removeAllPods(peer.endpoint);
    await unmountUnder(dir);
    removeCgroupTree(cgroupRoot);
    // As the kubelet's (test/e2e/kubelet/kubelet.ts): the log survives its temp dir when asked.
    const keep = process.env.NODELET_KUBELET_KEEP_LOG;
    if (keep)
      fs.copyFileSync(path.join(dir, 'agent.log'), path.join(keep, `agent-${path.basename(dir)}.log`));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 60_000;
  while ((await get('/healthz').catch(() => '')) !== 'ok') {
    if (child.exitCode !== null || Date.now() > until) {
      const tail = fs.readFileSync(path.join(dir, 'agent.log'), 'utf8').slice(-3000);
      await stop();
      throw new Error(
        `Cannot start nodelet agent: its API did not answer (exit ${child.exitCode}):\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const manifests = path.join(dir, 'manifests');
  return {
    label: `agent + ${peer.name}`,
    addManifest: (name, yaml) => {
      const temp = path.join(manifests, `.${name}.tmp`);
      fs.writeFileSync(temp, yaml);
      fs.renameSync(temp, path.join(manifests, name));
    },
    get,
    rootPids: () => [child.pid!, ...peer.rootPids()],
    stop,
  };
}
