// A standalone agent on nodelet's real daemon, for the agent attack tests: a registry with the
// fixture images, a daemon pulling through it, temporary roots for the manifests, the agent's root
// directory and the pod logs. useAgentNode() registers the set-up and the teardown (every pod
// removed, mounts and cgroups undone, the roots deleted) with the test file's beforeAll/afterAll.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type Agent, type AgentOptions, startAgent } from '../../src/agent';
import { Backoff } from '../../src/agent/backoff';
import type { PodStatusView } from '../../src/agent/pod_status';
import { removeAllPods } from '../support/cri_client';
import { removeCgroupTree, unmountUnder } from '../support/containerd';
import { startDaemon, TestDaemon } from '../support/daemon';
import { startRegistry, TestRegistry } from '../support/registry';

export const NODE = 'secnode';
export const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

export interface AgentNode {
  /** The temporary directory everything of this node lives in. */
  dir(): string;
  dirs(): { manifests: string; root: string; logs: string };
  /** The node's daemon. */
  daemon(): TestDaemon;
  /** Starts an agent on the node's daemon (`extra` options on top); the last one started is stopped at teardown. */
  start(extra?: Partial<AgentOptions>): Promise<Agent>;
  /** The status of the static pod `name` in the last agent started. */
  statusOf(name: string): PodStatusView | undefined;
  waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
}

export function useAgentNode(name: string): AgentNode {
  const cgroupRoot = `/nodelet-agent-${name}-${process.pid}`;
  let dir: string;
  let registry: TestRegistry | undefined;
  let daemon: TestDaemon | undefined;
  let agent: Agent | undefined;

  const dirs = () => ({
    manifests: path.join(dir, 'manifests'),
    root: path.join(dir, 'agent'),
    logs: path.join(dir, 'logs'),
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `nodelet-sec-${name}-`));
    for (const d of Object.values(dirs())) fs.mkdirSync(d, { recursive: true });
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
  });

  afterAll(async () => {
    await agent?.stop();
    if (daemon) {
      await removeAllPods(daemon.endpoint);
      await daemon.stop();
      await daemon.cleanup();
    }
    await registry?.stop();
    await unmountUnder(dir);
    removeCgroupTree(cgroupRoot);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  return {
    dir: () => dir,
    dirs,
    daemon: () => daemon!,
    async start(extra = {}) {
      const d = dirs();
      agent = await startAgent({
        endpoint: daemon!.endpoint,
        manifestDir: d.manifests,
        rootDir: d.root,
        podLogsDir: d.logs,
        nodeName: NODE,
        cgroupRoot,
        syncIntervalMs: 300,
        rescanMs: 1000,
        backoff: new Backoff({ initialMs: 3000, maxMs: 20_000 }),
        log: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
        ...extra,
      });
      return agent;
    },
    statusOf(podName) {
      for (const { desired, status } of agent!.pods().values())
        if (desired.name === `${podName}-${NODE}`) return status;
      return undefined;
    },
    async waitFor(what, probe, timeoutMs = 90_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value) return value;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}
