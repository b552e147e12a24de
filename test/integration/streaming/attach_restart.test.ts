// Attach after a kill -9 of the monitor: the next monitor adopts the container and serves attach
// to it, stdin and stdin_once included. Runs the monitor from the monitor tests' transpile, with
// the plain launcher (host processes), so no daemon or image is needed.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MonitorAttach, type MonitorClient } from '../../../src/monitor';
import {
  eventually,
  monitorFixture,
  processGone,
  shellSpec,
  transpileMonitor,
  type MonitorFixture,
  type TranspiledMonitor,
} from '../monitor/harness';

jest.setTimeout(60_000);

let monitor: TranspiledMonitor;
let fx: MonitorFixture;
let client: MonitorClient;

beforeAll(async () => {
  monitor = transpileMonitor();
  fx = monitorFixture(monitor);
  client = await fx.connect();
});

afterAll(async () => {
  try {
    if (client) {
      const [monitorPid, keeperPid] = [fx.monitorPid(), fx.keeperPid()];
      await client.shutdown(true);
      await eventually(
        'the monitor and keeper to stop',
        () => processGone(monitorPid) && processGone(keeperPid),
      );
    }
  } finally {
    fx?.cleanup();
    fs.rmSync(monitor.dir, { recursive: true, force: true });
  }
});

function collector(): Writable & { text: string } {
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  out.text = '';
  return out;
}

function holds(pid: number, file: string): boolean {
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).some((fd) => {
    try {
      return fs.readlinkSync(path.join(dir, fd)) === file;
    } catch {
      return false;
    }
  });
}

async function killMonitor(): Promise<void> {
  const first = fx.monitorPid();
  process.kill(first, 'SIGKILL');
  await eventually(
    'a new monitor',
    () => fx.monitorPid() !== first && fs.existsSync(path.join(fx.runDir, 'attach.sock')),
  );
  // The client reconnects by itself; a status answered means the new monitor has adopted.
  await eventually('the adopted container', async () => (await client.list().catch(() => [])).length > 0);
}

describe('attach after the monitor was killed', () => {
  it('reaches an adopted container: its output, its stdin, and stdin_once closing it', async () => {
    const logPath = path.join(fx.logDir, 'adopted.log');
    const spec = shellSpec('adopted', 'read a; echo "first $a"; cat; echo "input ended"');
    await client.create({ id: 'adopted', spec, logPath, stdin: true, stdinOnce: true });
    await client.start('adopted');
    // The keeper takes its hold on the stdin FIFO within a moment of the create (stdin_holds.ts).
    const stdinFifo = path.join(fx.runDir, 'containers', 'adopted', 'stdin');
    await eventually('the keeper holding stdin', () => holds(fx.keeperPid(), stdinFifo));
    await killMonitor();

    const stdout = collector();
    const attach = await MonitorAttach.open(fx.runDir, 'adopted', { stdin: true, stdout });
    attach.writeStdin(Buffer.from('one\n'));
    await eventually('the answer', () => stdout.text === 'first one\n');
    attach.writeStdin(Buffer.from('two\n'));
    attach.endStdin();
    expect(await attach.ended).toEqual({ exitCode: 0 });
    expect(stdout.text).toBe('first one\ntwo\ninput ended\n');
  });
});
