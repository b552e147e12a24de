// A streaming test node: the fixture registry, a daemon from dist/ mirroring critest's hosts to it,
// and helpers to run pods and containers with the real crictl. Needs root and
// `npx tsc -p tsconfig.build.json` first.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { startRegistry, type TestRegistry } from '../../support/registry';

export const CRICTL = '/root/go/bin/crictl';
export const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

export interface StreamingNode {
  daemon: TestDaemon;
  registry: TestRegistry;
  root: string;
  crictl(args: string[], options?: { input?: string | Buffer; timeoutMs?: number }): CrictlResult;
  crictlAsync(args: string[]): ChildProcess;
  /** Runs a pod and one started busybox container in it; returns their ids. */
  runContainer(name: string, container: Record<string, unknown>, pod?: Record<string, unknown>): Ids;
  stop(): Promise<void>;
}

export interface CrictlResult {
  code: number | null;
  out: string;
  err: string;
}

export interface Ids {
  podId: string;
  containerId: string;
}

export async function startStreamingNode(): Promise<StreamingNode> {
  const registry = await startRegistry({ withFixtures: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-streaming-'));
  const env = { ...process.env, CRI_CONFIG_FILE: '/dev/null' };
  let daemon: TestDaemon;
  try {
    daemon = await startDaemon({ root, config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
  } catch (err) {
    await registry.stop();
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const endpoint = ['--runtime-endpoint', daemon.endpoint, '--image-endpoint', daemon.endpoint];
  const crictl: StreamingNode['crictl'] = (args, options = {}) => {
    const r = spawnSync(CRICTL, [...endpoint, ...args], {
      input: options.input,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 256 * 1024 * 1024,
      env,
    });
    return { code: r.status, out: r.stdout?.toString() ?? '', err: r.stderr?.toString() ?? '' };
  };
  const must = (args: string[]) => {
    const r = crictl(args);
    if (r.code !== 0) throw new Error(`crictl ${args.join(' ')} failed: ${r.err}`);
    return r.out.trim();
  };
  const pods: string[] = [];
  const files = path.join(root, 'specs');
  fs.mkdirSync(files);
  return {
    daemon,
    registry,
    root,
    crictl,
    crictlAsync: (args) => spawn(CRICTL, [...endpoint, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
    runContainer(name, container, pod = {}) {
      const podFile = path.join(files, `${name}-pod.json`);
      const ctrFile = path.join(files, `${name}-ctr.json`);
      fs.writeFileSync(
        podFile,
        JSON.stringify({
          metadata: { name, namespace: 'streaming', uid: `uid-${name}`, attempt: 1 },
          log_directory: path.join(root, 'logs', name),
          linux: {},
          ...pod,
        }),
      );
      fs.writeFileSync(
        ctrFile,
        JSON.stringify({
          metadata: { name },
          image: { image: BUSYBOX },
          log_path: `${name}.log`,
          linux: {},
          ...container,
        }),
      );
      const podId = must(['runp', podFile]);
      pods.push(podId);
      const containerId = must(['create', '--with-pull', podId, ctrFile, podFile]);
      must(['start', containerId]);
      return { podId, containerId };
    },
    async stop() {
      for (const p of pods) {
        crictl(['stopp', p]);
        crictl(['rmp', '-f', p]);
      }
      await daemon.stop();
      await daemon.cleanup();
      await registry.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
