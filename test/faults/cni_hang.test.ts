// A CNI plugin that hangs: a real executable in the CNI bin path, named by a conflist in the
// daemon's CNI conf dir, that answers VERSION and DEL but sleeps on ADD in a child it waits for
// (as a plugin stuck on a helper would). RunPodSandbox must fail after cniTimeoutSeconds with
// DEADLINE_EXCEEDED naming the plugin, kill the plugin and its child, run DEL, and leave no
// netns, record, directory or IP lease behind.
import { status as grpcStatus } from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { criClient, TestCriClient } from '../support/cri_client';
import { startDaemon, TestDaemon } from '../support/daemon';

jest.setTimeout(120_000);

const TIMEOUT_SECONDS = 3;

let root: string;
let daemon: TestDaemon | undefined;
let cri: TestCriClient | undefined;
let bridge: string;

/** Running: not gone and not a zombie waiting to be reaped by whoever inherited it. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** Entries of a directory, or [] when it does not exist. */
const entries = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-faults-cni-'));
  const bin = path.join(root, 'cnibin');
  const calls = path.join(root, 'calls.log');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'hang-plugin'),
    [
      '#!/bin/sh',
      `echo "$CNI_COMMAND $$" >> ${calls}`,
      'case "$CNI_COMMAND" in',
      '  VERSION) echo \'{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}\' ;;',
      `  ADD) sleep 3600 & echo "SLEEP $!" >> ${calls}; wait ;;`,
      '  *) exit 0 ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  bridge = `nlf${path.basename(root).slice(-6)}`;
  fs.mkdirSync(path.join(root, 'cni'));
  fs.writeFileSync(
    path.join(root, 'cni', '10-hang.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'hang',
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipMasq: false,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: `10.${(200 + Math.random() * 50) | 0}.${(Math.random() * 250) | 0}.0/24` }]],
            dataDir: path.join(root, 'ipam'),
          },
        },
        { type: 'hang-plugin' },
      ],
    }),
  );
  daemon = await startDaemon({
    root,
    config: {
      cniConfDir: path.join(root, 'cni'),
      cniBinDirs: [bin, '/usr/lib/cni'],
      cniBridge: bridge,
      cniTimeoutSeconds: TIMEOUT_SECONDS,
    },
    timeoutMs: 30_000,
  });
  cri = criClient(daemon.endpoint);
});

afterAll(async () => {
  cri?.close();
  await daemon?.stop();
  await daemon?.cleanup();
  spawnSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
  fs.rmSync(root, { recursive: true, force: true });
});

it('RunPodSandbox fails after the CNI timeout, kills the plugin and undoes everything', async () => {
  const d = daemon!;
  const began = Date.now();
  const err = await cri!
    .runtime(
      'RunPodSandbox',
      { config: { metadata: { name: 'hang', namespace: 'faults', uid: 'uid-hang', attempt: 0 } } },
      60_000,
    )
    .then(
      () => undefined,
      (e: { code: number; details: string }) => e,
    );
  const seconds = (Date.now() - began) / 1000;
  expect(err).toBeDefined();
  expect([grpcStatus.DEADLINE_EXCEEDED, grpcStatus.UNAVAILABLE]).toContain(err!.code);
  expect(err!.details).toContain("CNI plugin 'hang-plugin'");
  expect(err!.details).toMatch(/gave no answer to ADD within 3 s/);
  // The timeout, DEL through both plugins and the undo: well under the client's own deadline.
  expect(seconds).toBeLessThan(TIMEOUT_SECONDS + 15);

  const log = fs.readFileSync(path.join(root, 'calls.log'), 'utf8');
  const pids = [...log.matchAll(/^(?:ADD|SLEEP) (\d+)$/gm)].map((m) => Number(m[1]));
  expect(pids).toHaveLength(2); // the plugin and the child it waited for
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  expect(pids.filter(alive)).toEqual([]);
  expect(log).toMatch(/^DEL \d+$/m);

  const { items } = await cri!.runtime<{ items: unknown[] }>('ListPodSandbox', {});
  expect(items).toEqual([]);
  expect(entries(path.join(d.runDir, 'ns'))).toEqual([]);
  expect(entries(path.join(d.runDir, 'sandboxes'))).toEqual([]);
  expect(entries(path.join(d.stateDir, 'sandboxes'))).toEqual([]);
  expect(entries(path.join(d.stateDir, 'records', 'sandboxes')).filter((n) => !n.startsWith('.'))).toEqual(
    [],
  );
  expect(entries(path.join(d.stateDir, 'cni', 'results'))).toEqual([]);
  // host-local keeps only its lock and last-reserved files once every lease is released.
  expect(entries(path.join(root, 'ipam', 'hang')).filter((n) => /^\d+\./.test(n))).toEqual([]);
});
