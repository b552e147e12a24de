// The monitor's pool of pre-started container inits: containers are made from them, the pool
// refills, and no pooled init outlives the monitor, whether it shuts down or is killed.
import fs from 'node:fs';
import path from 'node:path';
import type { MonitorClient } from '../../../src/monitor';
import { defaultSpec } from '../../../src/runtime/spec/defaults';
import { buildBusyboxRootfs } from '../../support/busybox_rootfs';
import {
  eventually,
  exitsOf,
  monitorFixture,
  processGone,
  readCriLog,
  transpileMonitor,
  type MonitorFixture,
  type TranspiledMonitor,
} from './harness';

jest.setTimeout(120_000);

let monitor: TranspiledMonitor;
let fx: MonitorFixture;
let client: MonitorClient;
let rootfs: string;

beforeAll(() => {
  monitor = transpileMonitor();
});
afterAll(() => fs.rmSync(monitor.dir, { recursive: true, force: true }));

beforeEach(async () => {
  fx = monitorFixture(monitor, 'engine');
  rootfs = buildBusyboxRootfs(path.join(fx.root, 'rootfs'));
  client = await fx.connect();
});

afterEach(async () => {
  try {
    const [monitorPid, keeperPid] = [fx.monitorPid(), fx.keeperPid()];
    await client.shutdown(true);
    await eventually(
      'the monitor and keeper to stop',
      () => processGone(monitorPid) && processGone(keeperPid),
    );
  } finally {
    fx.cleanup();
  }
});

/** The monitor's children that are pooled inits still waiting (their argv ends in --pooled). */
function pooledInits(monitorPid: number): number[] {
  const pids: number[] = [];
  for (const tid of fs.readdirSync(`/proc/${monitorPid}/task`)) {
    const children = fs.readFileSync(`/proc/${monitorPid}/task/${tid}/children`, 'utf8');
    for (const pid of children.split(' ').filter(Boolean).map(Number)) {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (argv.includes('--pooled') && !processGone(pid)) pids.push(pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  return pids;
}

const spec = (id: string, script: string) =>
  defaultSpec({ id, rootPath: rootfs, args: ['sh', '-c', script] });

test('a container is made from a waiting init, runs as PID 1 and logs, and the pool refills', async () => {
  const waiting = await eventually('two pooled inits', () => {
    const pids = pooledInits(fx.monitorPid());
    return pids.length === 2 ? pids : undefined;
  });
  const exits = exitsOf(client);
  const logPath = path.join(fx.logDir, 'box.log');
  const info = await client.create({ id: 'box', spec: spec('box', 'echo pid=$$'), logPath });
  expect(waiting).toContain(info.pid);
  await client.start('box');
  expect(await eventually('the exit of box', () => exits.get('box'))).toMatchObject({ exitCode: 0 });
  expect(readCriLog(logPath)).toContainEqual({ stream: 'stdout', tag: 'F', content: 'pid=1' });
  const refilled = await eventually('the pool to refill', () => {
    const pids = pooledInits(fx.monitorPid());
    return pids.length === 2 ? pids : undefined;
  });
  expect(refilled).not.toContain(info.pid);
  await client.remove('box');
});

test('a shutdown of the monitor ends its waiting inits', async () => {
  const waiting = await eventually('two pooled inits', () => {
    const pids = pooledInits(fx.monitorPid());
    return pids.length === 2 ? pids : undefined;
  });
  const [monitorPid, keeperPid] = [fx.monitorPid(), fx.keeperPid()];
  await client.shutdown(true);
  await eventually('the monitor and keeper to stop', () => processGone(monitorPid) && processGone(keeperPid));
  expect(await eventually('the pooled inits to end', () => waiting.every(processGone))).toBe(true);
  client = await fx.connect(); // afterEach shuts this one down
});

test('a kill -9 of the monitor ends its waiting inits but not its containers', async () => {
  const info = await client.create({
    id: 'sleeper',
    spec: spec('sleeper', 'sleep 600'),
    logPath: path.join(fx.logDir, 'sleeper.log'),
  });
  await client.start('sleeper');
  const waiting = await eventually('two pooled inits', () => {
    const pids = pooledInits(fx.monitorPid());
    return pids.length === 2 ? pids : undefined;
  });
  const reconnected = new Promise<void>((resolve) => client.once('reconnect', resolve));
  process.kill(fx.monitorPid(), 'SIGKILL');
  await reconnected;
  expect(await eventually('the pooled inits to end', () => waiting.every(processGone))).toBe(true);
  expect(await client.status('sleeper')).toMatchObject({ state: 'running', adopted: true });
  expect(processGone(info.pid as number)).toBe(false);
});
