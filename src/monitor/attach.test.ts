import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { defaultSpec } from '../runtime/spec/defaults';
import { openPty } from '../runtime/sys';
import { MonitorAttach } from './attach_client';
import { attachSocketPath } from './attach_protocol';
import { serveAttach } from './attach_server';
import { PlainLauncher, spawned, type LaunchedProcess, type Launcher } from './launcher';
import type { ChildStdio } from './stdio';
import { Supervisor } from './supervisor';

jest.setTimeout(30_000);

const log = pino({ level: 'silent' });
const GATE = 'read _ <&3 || exit 125; exec 3<&-; exec "$@"';

/** The plain launcher, plus a terminal: a pty from the host's /dev/ptmx as the process's stdio. */
class TerminalLauncher implements Launcher {
  readonly name = 'test-terminal';
  private readonly plain = new PlainLauncher();

  async launch(spec: Parameters<Launcher['launch']>[0], stdio: ChildStdio): Promise<LaunchedProcess> {
    if (spec.id.startsWith('rdwr') && typeof stdio.stdin === 'number') {
      // As the pooled init does: its stdio reopened through /proc, read-write.
      const rdwr = fs.openSync(`/proc/self/fd/${stdio.stdin}`, fs.constants.O_RDWR);
      try {
        return await this.plain.launch(spec, { ...stdio, stdin: rdwr });
      } finally {
        fs.closeSync(rdwr);
      }
    }
    if (!stdio.terminal) return this.plain.launch(spec, stdio);
    const pty = openPty('/dev/ptmx');
    const child = spawn('/bin/sh', ['-c', GATE, 'gate', ...spec.process.args], {
      stdio: [pty.slave, pty.slave, pty.slave, 'pipe'],
      detached: true,
    });
    const pid = await spawned(child, spec.id);
    fs.closeSync(pty.slave);
    const gate = child.stdio[3] as NodeJS.WritableStream & { destroy(): void };
    return {
      pid,
      child,
      terminalMaster: pty.master,
      start: async () => {
        gate.write('\n');
        gate.destroy();
      },
    };
  }

  exec: Launcher['exec'] = (target, proc) => this.plain.exec(target, proc);
}

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let root: string;
let runDir: string;
let supervisor: Supervisor;
let server: net.Server;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-attach-'));
  runDir = path.join(root, 'run');
  fs.mkdirSync(runDir);
  supervisor = new Supervisor({ runDir, launcher: new TerminalLauncher(), log });
  server = await serveAttach({
    socketPath: attachSocketPath(runDir),
    hubOf: (id) => supervisor.attachHub(id),
    log,
  });
});

afterEach(async () => {
  await supervisor.killAll();
  supervisor.close();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(root, { recursive: true, force: true });
});

async function run(
  id: string,
  script: string,
  options: { stdin?: boolean; stdinOnce?: boolean; tty?: boolean },
) {
  const spec = defaultSpec({ id, rootPath: '/', args: ['/bin/sh', '-c', script], cwd: '/' });
  await supervisor.create({ id, spec, logPath: path.join(root, `${id}.log`), ...options });
  await supervisor.start(id);
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`gave up waiting for ${what}`);
}

describe('attach through the monitor', () => {
  it('shows output as it comes, an unfinished line included, and writes input into stdin', async () => {
    await run('prompt', 'read go; printf "name? "; read n; echo "hello $n"; echo bye >&2', { stdin: true });
    const stdout = new Collector();
    const stderr = new Collector();
    const attach = await MonitorAttach.open(runDir, 'prompt', { stdin: true, stdout, stderr });
    attach.writeStdin(Buffer.from('\n')); // output from before the attach is the log's, not ours
    await until('the prompt', () => stdout.text === 'name? ');
    attach.writeStdin(Buffer.from('ada\n'));
    expect(await attach.ended).toEqual({ exitCode: 0 });
    expect(stdout.text).toBe('name? hello ada\n');
    expect(stderr.text).toBe('bye\n');
  });

  it('carries megabytes through stdin and stdout intact, waiting for a slow reader', async () => {
    await run('bulk', 'cat', { stdin: true, stdinOnce: true });
    const data = crypto.randomBytes(4 * 1024 * 1024);
    const chunks: Buffer[] = [];
    const stdout = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        setImmediate(done); // a reader a little slower than the writer
      },
    });
    const attach = await MonitorAttach.open(runDir, 'bulk', { stdin: true, stdout });
    for (let at = 0; at < data.length; at += 256 * 1024) {
      if (!attach.writeStdin(data.subarray(at, at + 256 * 1024))) await once(attach, 'drain');
    }
    attach.endStdin();
    expect(await attach.ended).toEqual({ exitCode: 0 });
    stdout.end(); // what the stream still buffers reaches the reader before 'finish'
    await once(stdout, 'finish');
    const got = Buffer.concat(chunks);
    expect(got.length).toBe(data.length);
    expect(got.equals(data)).toBe(true);
  });

  it('hands the output to every attached client', async () => {
    await run('many', 'read go; echo "for all"', { stdin: true });
    const outs = [new Collector(), new Collector(), new Collector()];
    const attaches = await Promise.all(
      outs.map((stdout, i) => MonitorAttach.open(runDir, 'many', { stdin: i === 0, stdout })),
    );
    attaches[0].writeStdin(Buffer.from('\n'));
    for (const a of attaches) expect(await a.ended).toEqual({ exitCode: 0 });
    expect(outs.map((o) => o.text)).toEqual(['for all\n', 'for all\n', 'for all\n']);
  });

  it('with stdin_once, closes stdin when the first stdin client is done and refuses stdin after', async () => {
    await run('once', 'cat; echo "cat saw the end"', { stdin: true, stdinOnce: true });
    const stdout = new Collector();
    const first = await MonitorAttach.open(runDir, 'once', { stdin: true, stdout });
    first.writeStdin(Buffer.from('line\n'));
    first.endStdin();
    expect(await first.ended).toEqual({ exitCode: 0 });
    expect(stdout.text).toBe('line\ncat saw the end\n');
    await expect(MonitorAttach.open(runDir, 'once', { stdin: true })).rejects.toMatchObject({
      kind: 'FailedPrecondition',
    });
  });

  it('with stdin_once, closes stdin when the first stdin client goes away', async () => {
    await run('gone', 'cat >/dev/null; echo closed', { stdin: true, stdinOnce: true });
    const watcher = new Collector();
    const watch = await MonitorAttach.open(runDir, 'gone', { stdin: false, stdout: watcher });
    const writer = await MonitorAttach.open(runDir, 'gone', { stdin: true });
    writer.writeStdin(Buffer.from('x\n'));
    writer.close();
    expect(await watch.ended).toEqual({ exitCode: 0 });
    expect(watcher.text).toBe('closed\n');
  });

  it('with stdin_once, ends the session when the container holds its stdin open for writing', async () => {
    // Closing our end cannot give it end-of-file: the session ends after its output instead.
    await run('rdwr', 'read l; echo "got $l"; sleep 30', { stdin: true, stdinOnce: true });
    const stdout = new Collector();
    const attach = await MonitorAttach.open(runDir, 'rdwr', { stdin: true, stdout });
    attach.writeStdin(Buffer.from('it\n'));
    attach.endStdin();
    expect(await attach.ended).toEqual({ detached: true });
    expect(stdout.text).toBe('got it\n');
    expect(supervisor.status('rdwr').state).toBe('running');
  });

  it('without stdin_once, keeps stdin open for the next client', async () => {
    await run('open', 'read a; read b; echo "$a $b"', { stdin: true });
    const first = await MonitorAttach.open(runDir, 'open', { stdin: true });
    first.writeStdin(Buffer.from('one\n'));
    first.endStdin();
    first.close();
    const stdout = new Collector();
    const second = await MonitorAttach.open(runDir, 'open', { stdin: true, stdout });
    second.writeStdin(Buffer.from('two\n'));
    expect(await second.ended).toEqual({ exitCode: 0 });
    expect(stdout.text).toBe('one two\n');
  });

  it('refuses stdin for a container created without it, and unknown containers', async () => {
    await run('nostdin', 'sleep 30', {});
    await expect(MonitorAttach.open(runDir, 'nostdin', { stdin: true })).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('created without stdin'),
    });
    await expect(MonitorAttach.open(runDir, 'nope', { stdin: false })).rejects.toMatchObject({
      kind: 'NotFound',
    });
  });

  it('gives a terminal container input, echo and the size the client sets', async () => {
    await run('term', 'read l; stty size; echo "got $l"', { stdin: true, tty: true });
    const stdout = new Collector();
    const attach = await MonitorAttach.open(runDir, 'term', { stdin: true, stdout });
    attach.resize({ rows: 33, cols: 111 });
    attach.writeStdin(Buffer.from('typed\r'));
    expect(await attach.ended).toEqual({ exitCode: 0 });
    // The terminal echoes what was typed, then the size, then the answer (with \r\n line ends).
    expect(stdout.text).toBe('typed\r\n33 111\r\ngot typed\r\n');
  });

  it('with stdin_once, ends a terminal container’s input with ^D when the client leaves', async () => {
    await run('termonce', 'cat >/dev/null; echo ended', { stdin: true, stdinOnce: true, tty: true });
    const stdout = new Collector();
    const watch = await MonitorAttach.open(runDir, 'termonce', { stdin: false, stdout });
    const writer = await MonitorAttach.open(runDir, 'termonce', { stdin: true });
    writer.close();
    expect(await watch.ended).toEqual({ exitCode: 0 });
    expect(stdout.text).toContain('ended');
  });
});
