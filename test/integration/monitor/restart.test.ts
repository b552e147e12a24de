// What must survive: the daemon (the client) dying, and the monitor itself dying, while 20
// containers run and write a counter. Each container prints 0, 1, 2, … and exits with the code
// written into its stop file, so the test decides when each one ends and can check every number
// reached the log exactly once.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { MonitorClient } from '../../../src/monitor';
import {
  eventually,
  exitsOf,
  monitorFixture,
  processGone,
  readCriLog,
  shellSpec,
  transpileMonitor,
  type MonitorFixture,
  type TranspiledMonitor,
} from './harness';

jest.setTimeout(120_000);

let monitor: TranspiledMonitor;
let fx: MonitorFixture;
const clients: MonitorClient[] = [];

async function connect(): Promise<MonitorClient> {
  const client = await fx.connect();
  clients.push(client);
  return client;
}

beforeAll(() => {
  monitor = transpileMonitor();
});
afterAll(() => fs.rmSync(monitor.dir, { recursive: true, force: true }));

beforeEach(() => {
  fx = monitorFixture(monitor);
});

afterEach(async () => {
  try {
    clients.splice(0).forEach((c) => c.close());
    const last = await fx.connect();
    const [monitorPid, keeperPid] = [fx.monitorPid(), fx.keeperPid()];
    await last.shutdown(true);
    await eventually(
      'the monitor and keeper to stop',
      () => processGone(monitorPid) && processGone(keeperPid),
    );
  } finally {
    fx.cleanup();
  }
});

function counterScript(stopFile: string, periodSeconds: string): string {
  return [
    'i=0',
    `while :; do echo "$i"; i=$((i+1)); if [ -e ${stopFile} ]; then exit "$(cat ${stopFile})"; fi; sleep ${periodSeconds}; done`,
  ].join('; ');
}

/** Makes a counter container exit with `code`. Renamed into place: the shell must never see the file empty. */
function stop(id: string, code: number): void {
  const file = path.join(fx.runDir, `stop-${id}`);
  fs.writeFileSync(`${file}.tmp`, `${code}`);
  fs.renameSync(`${file}.tmp`, file);
}

async function startCounters(client: MonitorClient, count: number) {
  const ids = Array.from({ length: count }, (_, i) => `counter-${i}`);
  const pids = new Map<string, number>();
  for (const [i, id] of ids.entries()) {
    const stop = path.join(fx.runDir, `stop-${id}`);
    // One writes every 10 ms, the rest every 50 ms: enough to fill the downtime with lines.
    const spec = shellSpec(id, counterScript(stop, i === 0 ? '0.01' : '0.05'));
    await client.create({ id, spec, logPath: path.join(fx.logDir, `${id}.log`) });
    const info = await client.start(id);
    pids.set(id, info.pid as number);
  }
  return { ids, pids, stop };
}

/**
 * Every number from 0 to the last one reached the log, in order, as full stdout lines. A batch
 * logged just before a kill -9 may be logged again by the next monitor (at least once, never
 * lost), so a repeat is allowed; a gap is not.
 */
function expectContinuousCounter(id: string): void {
  const lines = readCriLog(path.join(fx.logDir, `${id}.log`));
  expect(lines.length).toBeGreaterThan(0);
  const firstSeen = [...new Set(lines.map((l) => Number(l.content)))];
  expect(firstSeen).toEqual(firstSeen.map((_, i) => i));
  expect(lines.every((l) => l.stream === 'stdout' && l.tag === 'F')).toBe(true);
}

describe('the monitor across restarts', () => {
  it('lets a new client see the exits that happened while no client was connected, with their real codes', async () => {
    const daemon = await connect();
    const { ids, stop } = await startCounters(daemon, 3);
    daemon.close(); // the daemon is gone; the monitor and its containers are not

    ids.forEach((id, i) => stop(id, 20 + i));
    const restarted = await connect();
    const exited = await eventually('three exits', async () => {
      const list = await restarted.list();
      return list.every((c) => c.state === 'exited') ? list : undefined;
    });

    expect(exited.map((c) => [c.id, c.exit?.exitCode, c.exit?.reason]).sort()).toEqual([
      ['counter-0', 20, 'Error'],
      ['counter-1', 21, 'Error'],
      ['counter-2', 22, 'Error'],
    ]);
    ids.forEach(expectContinuousCounter);
  });

  it('loses none of 20 containers, their lines or their exit codes when the daemon and then the monitor are killed with -9', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `d-${i}`);
    const requests = ids.map((id) => ({
      id,
      spec: shellSpec(id, counterScript(path.join(fx.runDir, `stop-${id}`), '0.05')),
      logPath: path.join(fx.logDir, `${id}.log`),
    }));
    // The daemon: a process of its own that starts the monitor and the containers, then waits.
    const script = `
      const { ensureMonitor } = require(${JSON.stringify(path.join(monitor.dir, 'monitor/client.js'))});
      const log = { info() {}, warn() {}, error() {}, debug() {} };
      (async () => {
        const client = await ensureMonitor({ runDir: ${JSON.stringify(fx.runDir)}, log,
          entry: ${JSON.stringify(monitor.entry)}, launcher: 'plain' });
        for (const r of ${JSON.stringify(requests)}) { await client.create(r); await client.start(r.id); }
        process.stdout.write('ready');
        setInterval(() => {}, 1000);
      })();`;
    const daemon = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    daemon.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      daemon.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      daemon.once('exit', (code) => reject(new Error(`the daemon exited with ${code}: ${stderr}`)));
    });
    daemon.kill('SIGKILL');
    await new Promise((resolve) => daemon.once('exit', resolve));

    // Half end with no daemon; then the monitor is killed too, and its keeper restarts it with no
    // daemon watching; the other half end under that new monitor.
    ids.slice(0, 10).forEach((id, i) => stop(id, 50 + i));
    const firstMonitor = fx.monitorPid();
    process.kill(firstMonitor, 'SIGKILL');
    await eventually(
      'a new monitor',
      () => fs.existsSync(path.join(fx.runDir, 'monitor.sock')) && fx.monitorPid() !== firstMonitor,
    );
    ids.slice(10).forEach((id, i) => stop(id, 60 + i));
    const restarted = await connect();
    const exited = await eventually('twenty exits', async () => {
      const list = await restarted.list();
      return list.length === 20 && list.every((c) => c.state === 'exited') ? list : undefined;
    });
    const codes = new Map(exited.map((c) => [c.id, c.exit?.exitCode]));
    expect(ids.map((id) => codes.get(id))).toEqual(ids.map((_, i) => (i < 10 ? 50 + i : 60 + i - 10)));
    ids.forEach(expectContinuousCounter);
  });

  it('keeps 20 containers running and logging through a kill -9 of the monitor, with every exit code right', async () => {
    const client = await connect();
    const exits = exitsOf(client);
    const { ids, pids, stop } = await startCounters(client, 20);
    const early = ids.slice(15); // end while the first monitor runs
    const meanwhile = ids.slice(10, 15); // end while no monitor runs: the keeper reaps them
    const late = ids.slice(0, 10); // end under the replacement monitor, which adopted them

    early.forEach((id, i) => stop(id, 10 + i));
    await eventually('the early exits', () => early.every((id) => exits.has(id)));
    expect(early.map((id) => exits.get(id)?.exitCode)).toEqual([10, 11, 12, 13, 14]);

    const firstMonitor = fx.monitorPid();
    const reconnected = new Promise<void>((resolve) => client.once('reconnect', resolve));
    process.kill(firstMonitor, 'SIGKILL');
    meanwhile.forEach((id, i) => stop(id, 30 + i));
    await eventually('the containers that end meanwhile', () =>
      meanwhile.every((id) => processGone(pids.get(id)!)),
    );
    await reconnected;
    expect(fx.monitorPid()).not.toBe(firstMonitor);

    const afterRestart = await eventually('the exits seen by the new monitor', async () => {
      const list = await client.list();
      return meanwhile.every((id) => list.find((c) => c.id === id)?.exit) ? list : undefined;
    });
    expect(afterRestart).toHaveLength(20);
    for (const id of late) {
      expect(afterRestart.find((c) => c.id === id)).toMatchObject({ state: 'running', adopted: true });
    }
    expect(meanwhile.map((id) => afterRestart.find((c) => c.id === id)?.exit?.exitCode)).toEqual([
      30, 31, 32, 33, 34,
    ]);

    late.forEach((id, i) => stop(id, 40 + i));
    await eventually('the late exits', () => late.every((id) => exits.has(id)));
    expect(late.map((id) => exits.get(id)?.exitCode)).toEqual(late.map((_, i) => 40 + i));
    expect(late.map((id) => exits.get(id)?.reason)).toEqual(late.map(() => 'Error'));
    ids.forEach(expectContinuousCounter);
    expect(ids.filter((id) => !processGone(pids.get(id)!))).toEqual([]);
  });

  it('reports the exits of containers orphaned while no keeper ran as Unknown, and still logs them', async () => {
    const client = await connect();
    const exits = exitsOf(client);
    const { ids, pids, stop } = await startCounters(client, 2);
    const reconnected = new Promise<void>((resolve) => client.once('reconnect', resolve));
    process.kill(fx.keeperPid(), 'SIGKILL');
    await eventually('the keeper to die', () => processGone(fx.keeperPid()));
    process.kill(fx.monitorPid(), 'SIGKILL');
    stop(ids[0], 7);
    await eventually('the first container to end', () => processGone(pids.get(ids[0])!));
    await reconnected; // the client started a new keeper and monitor

    // It waits a moment for a keeper's record that never comes, then says what it knows.
    const first = await eventually('the unknown exit', async () => {
      const status = await client.status(ids[0]);
      return status.exit ? status : undefined;
    });
    expect(first.exit).toMatchObject({ exitCode: 255, reason: 'Unknown' });
    expect(first.exit?.message).toMatch(/exit status is unknown/);

    // The second went on running and logging under the new monitor, but it was orphaned to the
    // host's init, not to the new keeper: its end is seen, its status cannot be.
    expect(await client.status(ids[1])).toMatchObject({ state: 'running', adopted: true });
    stop(ids[1], 9);
    await eventually('the second exit', () => exits.get(ids[1]));
    expect(exits.get(ids[1])).toMatchObject({ exitCode: 255, reason: 'Unknown' });
    expectContinuousCounter(ids[1]);
  });
});
