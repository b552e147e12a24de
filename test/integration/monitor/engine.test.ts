// The monitor with the engine's launcher: real containers (busybox root, own PID and mount
// namespaces) as the monitor's children, their output in CRI logs, exec beside them, and a
// kill -9 of the monitor while one writes.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MonitorAttach, type MonitorClient } from '../../../src/monitor';
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
let connected = false;
let rootfs: string;

beforeAll(() => {
  monitor = transpileMonitor();
});
afterAll(() => fs.rmSync(monitor.dir, { recursive: true, force: true }));

beforeEach(async () => {
  fx = monitorFixture(monitor, 'engine');
  rootfs = buildBusyboxRootfs(path.join(fx.root, 'rootfs'));
  connected = false;
  client = await fx.connect();
  connected = true;
});

afterEach(async () => {
  try {
    if (connected) {
      const [monitorPid, keeperPid] = [fx.monitorPid(), fx.keeperPid()];
      await client.shutdown(true);
      await eventually(
        'the monitor and keeper to stop',
        () => processGone(monitorPid) && processGone(keeperPid),
      );
    }
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

describe('the monitor with the engine', () => {
  it('runs a container as PID 1 of its namespace, logs its output and records its exit code', async () => {
    const exits = exitsOf(client);
    const logPath = path.join(fx.logDir, 'box.log');
    await client.create({ id: 'box', spec: spec('box', 'echo pid=$$; echo oops >&2; exit 5'), logPath });
    await client.start('box');
    const exit = await eventually('the exit of box', () => exits.get('box'));
    expect(exit).toMatchObject({ exitCode: 5, reason: 'Error' });
    const lines = readCriLog(logPath);
    expect(lines).toContainEqual({ stream: 'stdout', tag: 'F', content: 'pid=1' });
    expect(lines).toContainEqual({ stream: 'stderr', tag: 'F', content: 'oops' });
    await client.remove('box');
    expect(await client.list()).toEqual([]);
  });

  it('logs a terminal container’s output as stdout from its pty', async () => {
    const exits = exitsOf(client);
    const logPath = path.join(fx.logDir, 'tty.log');
    const script = 'echo start; [ -t 1 ] && echo "a terminal"; exit 4';
    const ttySpec = spec('tty', script);
    ttySpec.process.terminal = true;
    await client.create({ id: 'tty', spec: ttySpec, logPath, tty: true });
    await client.start('tty');
    expect(await eventually('the exit of tty', () => exits.get('tty'))).toMatchObject({ exitCode: 4 });
    // A terminal ends lines with \r\n; the \r stays in the content, as with containerd.
    expect(readCriLog(logPath)).toContainEqual({ stream: 'stdout', tag: 'F', content: 'a terminal\r' });
  });

  it('runs exec inside a running container and returns its output and exit code', async () => {
    await client.create({
      id: 'ex',
      spec: spec('ex', 'exec sleep 60'),
      logPath: path.join(fx.logDir, 'ex.log'),
    });
    await client.start('ex');
    const result = await client.execSync({
      id: 'ex',
      args: ['sh', '-c', 'ps -o pid,comm | grep -c sleep; exit 3'],
    });
    expect(Buffer.from(result.stdout, 'base64').toString().trim()).toBe('1');
    expect(result.exitCode).toBe(3);
  });

  it('keeps a container writing through a kill -9 of the monitor and reports its real exit code', async () => {
    const exits = exitsOf(client);
    const logPath = path.join(fx.logDir, 'count.log');
    const script = 'i=0; while [ ! -e /stop ]; do echo $i; i=$((i+1)); sleep 0.01; done; exit 7';
    const info = await client.create({ id: 'count', spec: spec('count', script), logPath });
    await client.start('count');
    await eventually('some lines', () => readCriLog(logPath).length > 20);

    const reconnected = new Promise<void>((resolve) => client.once('reconnect', resolve));
    process.kill(fx.monitorPid(), 'SIGKILL');
    await reconnected;
    expect(await client.status('count')).toMatchObject({ state: 'running', adopted: true });
    const before = readCriLog(logPath).length;
    await eventually('more lines under the new monitor', () => readCriLog(logPath).length > before + 20);

    fs.writeFileSync(path.join(rootfs, 'stop'), '');
    expect(await eventually('the exit of count', () => exits.get('count'))).toMatchObject({ exitCode: 7 });
    const numbers = [...new Set(readCriLog(logPath).map((l) => Number(l.content)))];
    expect(numbers).toEqual(numbers.map((_, i) => i));
    expect(processGone(info.pid as number)).toBe(true);
  });

  it('keeps a terminal container logged and attachable through a kill -9 of the monitor', async () => {
    const logPath = path.join(fx.logDir, 'term.log');
    const termSpec = spec('term', 'echo ready; while read line; do echo "got $line"; done');
    termSpec.process.terminal = true;
    await client.create({ id: 'term', spec: termSpec, logPath, tty: true, stdin: true });
    await client.start('term');
    await eventually('the first line', () => readCriLog(logPath).some((l) => l.content === 'ready\r'));
    // The keeper copies the pty master within a moment of the create (terminal_holds.ts).
    const kept = path.join(fx.runDir, 'containers', 'term', 'terminal.json');
    await eventually('the keeper holding the terminal', () => fs.existsSync(kept));

    const reconnected = new Promise<void>((resolve) => client.once('reconnect', resolve));
    process.kill(fx.monitorPid(), 'SIGKILL');
    await reconnected;
    expect(await client.status('term')).toMatchObject({ state: 'running', adopted: true });

    let seen = '';
    const stdout = new Writable({
      write(chunk: Buffer, _enc, done) {
        seen += chunk.toString();
        done();
      },
    });
    const attach = await MonitorAttach.open(fx.runDir, 'term', { stdin: true, stdout });
    attach.writeStdin(Buffer.from('hello\n'));
    await eventually('the answer through attach', () => seen.includes('got hello'));
    await eventually('the answer in the log', () =>
      readCriLog(logPath).some((l) => l.content === 'got hello\r'),
    );
    attach.close();
    await client.remove('term');
  });
});
