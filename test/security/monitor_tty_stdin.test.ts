// Attack: a pod's user runs a terminal container that puts its tty in raw mode and never reads
// (`stty raw -echo; sleep 3600`), then pastes about a megabyte into it through attach. The monitor
// wrote a terminal's input through a blocking descriptor: once the pty's buffers filled, its
// write(2) blocked the whole event loop, so no container on the node was logged, started or
// reaped, and no client got an answer, until the monitor was killed. The monitor must go on
// serving every other container, answer at once, and record the terminal container's exit.
import fs from 'node:fs';
import path from 'node:path';
import { MonitorAttach, type MonitorClient } from '../../src/monitor';
import { defaultSpec } from '../../src/runtime/spec/defaults';
import { buildBusyboxRootfs } from '../support/busybox_rootfs';
import {
  eventually,
  exitsOf,
  monitorFixture,
  processGone,
  readCriLog,
  transpileMonitor,
  type MonitorFixture,
  type TranspiledMonitor,
} from '../integration/monitor/harness';

jest.setTimeout(120_000);

let monitor: TranspiledMonitor;
let fx: MonitorFixture;
let client: MonitorClient;
let rootfs: string;
/** Container pids, to kill by hand should the monitor be stuck. */
let containerPids: number[];

beforeAll(() => {
  monitor = transpileMonitor();
});
afterAll(() => fs.rmSync(monitor.dir, { recursive: true, force: true }));

beforeEach(async () => {
  fx = monitorFixture(monitor, 'engine');
  rootfs = buildBusyboxRootfs(path.join(fx.root, 'rootfs'));
  containerPids = [];
  client = await fx.connect();
});

afterEach(async () => {
  const [monitorPid, keeperPid] = [fx.monitorPid(), fx.keeperPid()];
  try {
    await within(15_000, 'the monitor to shut down', client.shutdown(true));
  } catch {
    // A stuck monitor answers nothing: take it, the keeper and the containers down by hand.
    client.close();
    for (const pid of [monitorPid, keeperPid, ...containerPids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  try {
    await eventually('the monitor, keeper and containers to stop', () =>
      [monitorPid, keeperPid, ...containerPids].every(processGone),
    );
    const mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((line) => line.includes(fx.root));
    expect(mounts).toEqual([]);
  } finally {
    fx.cleanup();
  }
});

const spec = (id: string, script: string) =>
  defaultSpec({ id, rootPath: rootfs, args: ['sh', '-c', script] });

/** Settles as `promise` does, or fails naming `what` once `ms` passed. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('a raw terminal that never reads its attach input', () => {
  it('does not stop the monitor from logging, starting and reaping other containers', async () => {
    const exits = exitsOf(client);
    const rawLog = path.join(fx.logDir, 'raw.log');
    const rawSpec = spec('raw', 'stty raw -echo && echo raw-mode && exec sleep 3600');
    rawSpec.process.terminal = true;
    await client.create({ id: 'raw', spec: rawSpec, logPath: rawLog, tty: true, stdin: true });
    containerPids.push((await client.start('raw')).pid as number);
    await eventually('the terminal in raw mode', () =>
      readCriLog(rawLog).some((l) => l.content.startsWith('raw-mode')),
    );

    // A paste of 1 MiB, without waiting for 'drain', as a hostile client would send it.
    const attach = await MonitorAttach.open(fx.runDir, 'raw', { stdin: true });
    try {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      for (let i = 0; i < 16; i++) attach.writeStdin(chunk);

      // Meanwhile, another container is created, started, logged and reaped, within seconds.
      const witnessLog = path.join(fx.logDir, 'witness.log');
      await within(
        10_000,
        'create of another container',
        client.create({ id: 'witness', spec: spec('witness', 'echo alive; exit 3'), logPath: witnessLog }),
      );
      containerPids.push(
        (await within(10_000, 'start of another container', client.start('witness'))).pid as number,
      );
      const witnessExit = await within(
        10_000,
        'the exit of the other container',
        eventually('the exit of witness', () => exits.get('witness')),
      );
      expect(witnessExit).toMatchObject({ exitCode: 3 });
      expect(readCriLog(witnessLog)).toContainEqual({ stream: 'stdout', tag: 'F', content: 'alive' });
      expect(await within(5_000, 'status of the terminal container', client.status('raw'))).toMatchObject({
        state: 'running',
      });

      // The terminal container's end drops what is still queued for it; its exit is recorded and
      // the attached client hears of it.
      await within(5_000, 'a kill of the terminal container', client.signal('raw', 9));
      const rawExit = await within(
        10_000,
        'the exit of the terminal container',
        eventually('the exit of raw', () => exits.get('raw')),
      );
      expect(rawExit).toMatchObject({ exitCode: 137 });
      expect(await within(10_000, 'the attach session to end', attach.ended)).toEqual({ exitCode: 137 });
    } finally {
      attach.close();
    }
  });
});
