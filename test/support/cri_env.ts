// The usual setting of a CRI root test: a registry with the fixture images, a daemon that pulls
// through it, a client, and the busybox image already pulled. Teardown removes every pod first,
// because a daemon stopped with pods still in place leaves their mounts and namespaces behind.
import http from 'node:http';
import { criClient, TestCriClient } from './cri_client';
import { startDaemon, TestDaemon } from './daemon';
import { startRegistry, TestRegistry } from './registry';

export const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

export interface CriEnv {
  registry: TestRegistry;
  daemon: TestDaemon;
  cri: TestCriClient;
}

export interface CriEnvOptions {
  /** More daemon configuration, beside the registry mirrors. */
  config?: Record<string, unknown>;
  /** Images pulled before the tests; busybox by default. */
  images?: string[];
  /** More `nodelet daemon` flags. */
  args?: string[];
  /** The registry storage to serve instead of the fixture images (see registry.ts). */
  registryStorage?: string;
}

export async function startCriEnv(options: CriEnvOptions = {}): Promise<CriEnv> {
  const env: Partial<CriEnv> = {};
  try {
    env.registry = await startRegistry(
      options.registryStorage ? { storage: options.registryStorage } : { withFixtures: true },
    );
    const config = { ...options.config, registry: env.registry.mirrorConfig() };
    env.daemon = await startDaemon({ config, args: options.args, timeoutMs: 30_000 });
    env.cri = criClient(env.daemon.endpoint);
    for (const image of options.images ?? [BUSYBOX]) {
      await env.cri.image('PullImage', { image: { image } }, 120_000);
    }
    return env as CriEnv;
  } catch (err) {
    await stopCriEnv(env);
    throw err;
  }
}

/**
 * Removes every pod, then stops the daemon (its monitor too) and the registry (a fixture registry or
 * a test's own, such as the hostile one); safe on a half start.
 */
export async function stopCriEnv(
  env: (Partial<Omit<CriEnv, 'registry'>> & { registry?: { stop(): Promise<void> } }) | undefined,
): Promise<void> {
  if (!env) return;
  if (env.cri) {
    const { items } = await env.cri.runtime<{ items: { id: string }[] }>('ListPodSandbox', {});
    for (const pod of items) await env.cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000);
    env.cri.close();
  }
  await env.daemon?.stop();
  await env.daemon?.cleanup();
  await env.registry?.stop();
}

/** The body of the daemon's /metrics, at the address it logged (start it with `--metrics-address 127.0.0.1:0`). */
export function scrapeMetrics(daemon: TestDaemon): Promise<string> {
  const address = /"metrics":"([^"]+)"/.exec(daemon.logs())?.[1];
  if (!address) throw new Error(`the daemon did not log its metrics address:\n${daemon.logs()}`);
  return new Promise((resolve, reject) =>
    http
      .get(`http://${address}/metrics`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject),
  );
}
