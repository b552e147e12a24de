// The spec directories as CreateContainer reads them: a fresh look each time, and a broken file
// logged once rather than on every container.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { CdiSpecDirs } from './cache';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-cdi-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function recordingLog() {
  const warnings: unknown[][] = [];
  return { warnings, log: { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger };
}

const good = {
  cdiVersion: '0.3.0',
  kind: 'vendor.com/gpu',
  devices: [{ name: 'gpu0', containerEdits: { env: ['GPU=0'] } }],
};

test('a broken spec file is logged once while it stays broken the same way, and again once it changes', async () => {
  const { warnings, log } = recordingLog();
  const dirs = new CdiSpecDirs([dir], log);
  const broken = path.join(dir, 'broken.yaml');
  fs.writeFileSync(broken, 'cdiVersion: "0.3.0"\nkind: vendor.com/gpu\n');
  await dirs.load();
  await dirs.load();
  expect(warnings).toEqual([
    [{ file: broken, error: expect.stringMatching(/devices: Required/) }, 'CDI spec skipped'],
  ]);
  fs.writeFileSync(broken, JSON.stringify({ ...good, cdiVersion: '9.9.9' }));
  await dirs.load();
  expect(warnings).toHaveLength(2);
  expect(warnings[1]![0]).toMatchObject({ error: expect.stringMatching(/cdiVersion '9.9.9'/) });
});

test('a spec written after the daemon started is seen by the next container', async () => {
  const dirs = new CdiSpecDirs([dir], recordingLog().log);
  expect((await dirs.load()).devices.size).toBe(0);
  fs.writeFileSync(path.join(dir, 'gpu.json'), JSON.stringify(good));
  expect([...(await dirs.load()).devices.keys()]).toEqual(['vendor.com/gpu=gpu0']);
});
