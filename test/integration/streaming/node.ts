// A streaming test node: the fixture registry, a daemon from dist/ mirroring critest's hosts to it,
// and helpers to run pods and containers with the real crictl. Needs root and
// `npx tsc -p tsconfig.build.json` first.
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crictlFor } from '../../support/crictl';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { startRegistry, type TestRegistry } from '../../support/registry';
import type { ToolResult } from '../../support/tools';

export const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

export interface StreamingNode {
  daemon: TestDaemon;
  registry: TestRegistry;
  root: string;
  /** The crictl binary, for command lines a test builds itself (under a pty). */
  crictlBin: string;
  crictl(args: string[], options?: { input?: string | Buffer; timeoutMs?: number }): CrictlResult;
  crictlAsync(args: string[]): ChildProcess;
  /** Runs a pod and one started busybox container in it; returns their ids. */
  runContainer(name: string, container: Record<string, unknown>, pod?: Record<string, unknown>): Ids;
  stop(): Promise<void>;
}

export type CrictlResult = ToolResult;

export interface Ids {
  podId: string;
  containerId: string;
}

export async function startStreamingNode(): Promise<StreamingNode> {
  const registry = await startRegistry({ withFixtures: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-streaming-'));
  let daemon: TestDaemon;
  try {
    daemon = await startDaemon({ root, config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
  } catch (err) {
    await registry.stop();
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const cli = crictlFor(daemon.endpoint);
  const crictl: StreamingNode['crictl'] = (args, options) => cli.run(args, options);
  const must = (args: string[]) => cli.must(args).trim();
  const pods: string[] = [];
  const files = path.join(root, 'specs');
  fs.mkdirSync(files);
  return {
    daemon,
    registry,
    root,
    crictlBin: cli.bin,
    crictl,
    crictlAsync: (args) => cli.spawn(args),
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
