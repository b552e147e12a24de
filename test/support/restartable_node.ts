// One daemon root that a test kills and starts again and again (the crash-point walks): a registry
// with the fixture images, busybox pulled once, and a teardown that removes every pod, stops the
// monitor and then removes whatever the node still holds.
import path from 'node:path';
import { criClient, removeAllPods, TestCriClient } from './cri_client';
import { BUSYBOX } from './cri_env';
import { shutdownMonitor, startDaemon, TestDaemon } from './daemon';
import { removeNode } from './leftovers';
import { startRegistry, TestRegistry } from './registry';

export class RestartableNode {
  registry!: TestRegistry;
  daemon: TestDaemon | undefined;
  cri!: TestCriClient;
  /** Fixed by the first start; every later start reuses it. */
  root: string | undefined;

  constructor(private readonly startTimeoutMs: number) {}

  /** Starts a daemon on the node's root, with `env` (a crash point) when given. */
  async start(env?: Record<string, string>): Promise<void> {
    this.daemon = await startDaemon({
      root: this.root,
      config: this.root ? undefined : { registry: this.registry.mirrorConfig() },
      env,
      timeoutMs: this.startTimeoutMs,
    });
    this.root = this.daemon.root;
    this.cri = criClient(this.daemon.endpoint);
  }

  async stop(): Promise<void> {
    this.cri?.close();
    await this.daemon?.stop();
  }
}

/** A RestartableNode set up before the file's tests and torn down after them. */
export function useRestartableNode(startTimeoutMs: number): RestartableNode {
  const node = new RestartableNode(startTimeoutMs);
  beforeAll(async () => {
    node.registry = await startRegistry({ withFixtures: true });
    await node.start();
    await node.cri.image('PullImage', { image: { image: BUSYBOX } }, 120_000);
  });
  afterAll(async () => {
    const { daemon, root } = node;
    if (daemon) await removeAllPods(daemon.endpoint).catch(() => undefined);
    await node.stop();
    if (daemon) await shutdownMonitor(daemon.runDir);
    if (root) await removeNode({ root, stateDir: path.join(root, 'state'), runDir: path.join(root, 'run') });
    await node.registry?.stop();
  });
  return node;
}
