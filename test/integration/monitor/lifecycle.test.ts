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

jest.setTimeout(60_000);

let monitor: TranspiledMonitor;
let fx: MonitorFixture;
let client: MonitorClient;
let connected = false;

beforeAll(() => {
  monitor = transpileMonitor();
});
afterAll(() => fs.rmSync(monitor.dir, { recursive: true, force: true }));

beforeEach(async () => {
  fx = monitorFixture(monitor);
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
  } finally {
    fx.cleanup();
  }
});

describe('the monitor', () => {
  it('writes a container’s stdout and stderr to its CRI log and records its exit code', async () => {
    const exits = exitsOf(client);
    const logPath = path.join(fx.logDir, 'c1.log');
    const created = await client.create({
      id: 'c1',
      spec: shellSpec('c1', 'echo out; echo err >&2; printf tail; exit 3'),
      logPath,
    });
    expect(created.state).toBe('created');
    expect(readCriLog(logPath)).toEqual([]); // nothing runs before start

    await client.start('c1');
    const exit = await eventually('the exit of c1', () => exits.get('c1'));

    expect(exit).toMatchObject({ exitCode: 3, reason: 'Error' });
    const lines = readCriLog(logPath);
    expect(lines).toContainEqual({ stream: 'stdout', tag: 'F', content: 'out' });
    expect(lines).toContainEqual({ stream: 'stderr', tag: 'F', content: 'err' });
    expect(lines).toContainEqual({ stream: 'stdout', tag: 'P', content: 'tail' });
    const status = await client.status('c1');
    expect(status.state).toBe('exited');
    expect(status.exit?.exitCode).toBe(3);
    expect(
      JSON.parse(fs.readFileSync(path.join(fx.runDir, 'containers/c1/exit.json'), 'utf8')).exitCode,
    ).toBe(3);
  });

  it('reports a container killed by a signal with 128 plus the signal number', async () => {
    const exits = exitsOf(client);
    await client.create({
      id: 'k',
      spec: shellSpec('k', 'exec sleep 60'),
      logPath: path.join(fx.logDir, 'k.log'),
    });
    await client.start('k');
    await client.signal('k', 15);
    const exit = await eventually('the exit of k', () => exits.get('k'));
    expect(exit).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
  });

  it('refuses a second container with the same id and an unknown id with clear errors', async () => {
    const spec = shellSpec('dup', 'exec sleep 60');
    await client.create({ id: 'dup', spec, logPath: path.join(fx.logDir, 'dup.log') });
    await expect(
      client.create({ id: 'dup', spec, logPath: path.join(fx.logDir, 'dup.log') }),
    ).rejects.toMatchObject({
      kind: 'AlreadyExists',
      message: "Cannot create container 'dup': it exists",
    });
    await expect(client.status('nope')).rejects.toMatchObject({ kind: 'NotFound' });
    await expect(
      client.create({
        id: 'tty',
        spec: shellSpec('tty', 'true'),
        logPath: path.join(fx.logDir, 'tty.log'),
        tty: true,
      }),
    ).rejects.toMatchObject({
      kind: 'Unimplemented',
      message: "Cannot launch 'tty': the plain launcher has no terminal",
    });
    expect((await client.list()).map((c) => c.id)).toEqual(['dup']);
  });

  it('kills a container that is removed while it was created but not started', async () => {
    const logPath = path.join(fx.logDir, 'never.log');
    const created = await client.create({ id: 'never', spec: shellSpec('never', 'echo ran'), logPath });
    await client.remove('never');
    expect(processGone(created.pid as number)).toBe(true);
    expect(readCriLog(logPath)).toEqual([]);
    expect(await client.list()).toEqual([]);
  });

  it('runs exec beside a container and returns its output and exit code without logging it', async () => {
    const logPath = path.join(fx.logDir, 'e.log');
    await client.create({ id: 'e', spec: shellSpec('e', 'exec sleep 60'), logPath });
    await client.start('e');
    const result = await client.execSync({
      id: 'e',
      args: ['/bin/sh', '-c', 'echo hi; echo oops >&2; exit 4'],
    });
    expect(Buffer.from(result.stdout, 'base64').toString()).toBe('hi\n');
    expect(Buffer.from(result.stderr, 'base64').toString()).toBe('oops\n');
    expect(result).toMatchObject({ exitCode: 4, timedOut: false });
    expect(readCriLog(logPath)).toEqual([]);
  });

  it('kills an exec that runs past its timeout and says so', async () => {
    await client.create({
      id: 't',
      spec: shellSpec('t', 'exec sleep 60'),
      logPath: path.join(fx.logDir, 't.log'),
    });
    await client.start('t');
    const result = await client.execSync({ id: 't', args: ['/bin/sleep', '30'], timeoutSeconds: 1 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
  });

  it('writes to a fresh log file after the old one was renamed and the log reopened', async () => {
    const logPath = path.join(fx.logDir, 'r.log');
    const stop = path.join(fx.runDir, 'stop-r');
    const script = `echo first; while [ ! -e ${stop} ]; do sleep 0.05; done; echo second`;
    const exits = exitsOf(client);
    await client.create({ id: 'r', spec: shellSpec('r', script), logPath });
    await client.start('r');
    await eventually('the first line', () => readCriLog(logPath).length === 1);
    fs.renameSync(logPath, `${logPath}.1`);
    await client.reopenLog('r');
    fs.writeFileSync(stop, '');
    await eventually('the exit of r', () => exits.get('r'));
    expect(readCriLog(`${logPath}.1`).map((l) => l.content)).toEqual(['first']);
    expect(readCriLog(logPath).map((l) => l.content)).toEqual(['second']);
  });

  it('removes an exited container and its directory, and removing it again succeeds', async () => {
    const exits = exitsOf(client);
    await client.create({
      id: 'gone',
      spec: shellSpec('gone', 'true'),
      logPath: path.join(fx.logDir, 'g.log'),
    });
    await client.start('gone');
    await eventually('the exit of gone', () => exits.get('gone'));
    await client.remove('gone');
    await client.remove('gone');
    expect(fs.existsSync(path.join(fx.runDir, 'containers/gone'))).toBe(false);
    expect(await client.list()).toEqual([]);
  });
});
