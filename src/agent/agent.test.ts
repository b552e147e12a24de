import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Agent, startAgent } from './agent';
import { FakeCri } from './fake_cri.testutil';
import { fakeMounter } from './fake_mounter.testutil';

const mounter = fakeMounter();
let tmp: string;
let cri: FakeCri;
let agent: Agent | undefined;

const manifest = (name: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: 1
  containers: [{ name: main, image: "busybox:1" }]
`;

function start(): Promise<Agent> {
  return startAgent({
    endpoint: 'unused',
    cri,
    mounter,
    manifestDir: path.join(tmp, 'manifests'),
    rootDir: path.join(tmp, 'root'),
    podLogsDir: path.join(tmp, 'logs'),
    nodeName: 'n',
    cgroupDriver: 'systemd',
    syncIntervalMs: 20,
    rescanMs: 60_000,
    hostIP: '192.0.2.1',
    log: pino({ level: 'silent' }),
  });
}

async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-agent-unit-'));
  fs.mkdirSync(path.join(tmp, 'manifests'));
  cri = new FakeCri();
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('pods follow the manifest directory: a new file starts a pod, a deleted file removes it', async () => {
  agent = await start();
  fs.writeFileSync(path.join(tmp, 'manifests', 'a.yaml'), manifest('a'));
  agent.rescan();
  await until('the pod to run', () => cri.running('main').length === 1);
  expect([...agent.pods().values()].map((p) => p.desired.name)).toEqual(['a-n']);
  fs.rmSync(path.join(tmp, 'manifests', 'a.yaml'));
  agent.rescan();
  await agent.settled();
  expect(agent.pods().size).toBe(0);
  expect(cri.sandboxes.size).toBe(0);
  expect(fs.readdirSync(path.join(tmp, 'root', 'pods'))).toEqual([]);
});

test('an edited manifest replaces the old pod with a new one', async () => {
  agent = await start();
  fs.writeFileSync(path.join(tmp, 'manifests', 'a.yaml'), manifest('a'));
  agent.rescan();
  await until('the first pod', () => cri.running('main').length === 1);
  const first = cri.running('main')[0].id;
  fs.writeFileSync(path.join(tmp, 'manifests', 'a.yaml'), manifest('a') + '  hostname: edited\n');
  agent.rescan();
  await agent.settled();
  await until(
    'the second pod',
    () => cri.running('main').length === 1 && cri.running('main')[0].id !== first,
  );
  expect(cri.sandboxes.size).toBe(1);
});

test('at start, pods of the runtime without a manifest are stopped and removed, known ones are kept', async () => {
  fs.writeFileSync(path.join(tmp, 'manifests', 'keep.yaml'), manifest('keep'));
  agent = await start();
  await until('the kept pod', () => cri.running('main').length === 1);
  await agent.stop();
  const kept = cri.running('main')[0].id;
  // a pod left over by an earlier agent whose manifest is gone
  await cri.runPodSandbox({
    config: { metadata: { name: 'old', uid: 'old-uid' }, labels: { 'io.kubernetes.pod.uid': 'old-uid' } },
  });
  fs.mkdirSync(path.join(tmp, 'root', 'pods', 'old-uid'), { recursive: true });
  agent = await start();
  await agent.settled();
  expect([...cri.sandboxes.values()].map((s) => s.config.labels?.['io.kubernetes.pod.uid'])).not.toContain(
    'old-uid',
  );
  expect(fs.existsSync(path.join(tmp, 'root', 'pods', 'old-uid'))).toBe(false);
  expect(cri.running('main').map((c) => c.id)).toEqual([kept]);
});
