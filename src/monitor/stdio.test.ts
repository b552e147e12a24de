import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bytesInPipe, dupCloexec, openPty, setNonblock } from '../runtime/sys';
import type { LogSink } from './cri_log';
import { ContainerDir } from './records';
import { closeChildStdio, FifoTap, makeFifos, openChildStdio, Scratch, TtyTap } from './stdio';

const T = 1_700_000_000_000_000_000n;

class Recorder implements LogSink {
  text = '';
  write(record: Buffer): void {
    this.text += record.toString();
  }
}

describe('FifoTap', () => {
  let root: string;
  let dir: ContainerDir;
  let scratch: Scratch;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-tap-'));
    dir = new ContainerDir(root);
    makeFifos(dir, false);
    scratch = new Scratch();
  });
  afterEach(() => {
    scratch.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('logs complete lines and leaves an unfinished one in the pipe, not in memory', () => {
    const child = openChildStdio(dir, false);
    const log = new Recorder();
    const tap = new FifoTap(dir.fifo('stdout'), 'stdout', log, () => T);
    fs.writeSync(child.stdout as number, 'one\ntwo\nhal');
    tap.pump(scratch, false);
    expect(log.text).toBe(
      '2023-11-14T22:13:20.000000000Z stdout F one\n2023-11-14T22:13:20.000000000Z stdout F two\n',
    );
    expect(bytesInPipe(tap.fd)).toBe(3);
    tap.close();
    closeChildStdio(child);
  });

  it('lets a second reader pick up exactly where the first stopped', () => {
    const child = openChildStdio(dir, false);
    const first = new Recorder();
    const tapA = new FifoTap(dir.fifo('stdout'), 'stdout', first, () => T);
    fs.writeSync(child.stdout as number, 'a\nb');
    tapA.pump(scratch, false);
    tapA.close(); // the monitor goes away with "b" unfinished
    fs.writeSync(child.stdout as number, 'c\n');
    const second = new Recorder();
    const tapB = new FifoTap(dir.fifo('stdout'), 'stdout', second, () => T);
    tapB.pump(scratch, false);
    expect(first.text).toMatch(/ F a\n$/);
    expect(second.text).toMatch(/ F bc\n$/);
    tapB.close();
    closeChildStdio(child);
  });

  it('flushes the last unfinished line as partial and settles once every writer has gone', async () => {
    const child = openChildStdio(dir, false);
    const log = new Recorder();
    const tap = new FifoTap(dir.fifo('stderr'), 'stderr', log, () => T);
    fs.writeSync(child.stderr as number, 'bye');
    closeChildStdio(child);
    tap.pump(scratch, true);
    await tap.done;
    expect(log.text).toBe('2023-11-14T22:13:20.000000000Z stderr P bye\n');
    expect(tap.isOpen).toBe(false);
  });
});

describe('TtyTap', () => {
  const openFds = () => fs.readdirSync('/proc/self/fd').length;

  // A terminal with stdin has its master non-blocking (common/pty_writer.ts): the flag is shared by the
  // tap's copies, and the tap must read just the same.
  it.each([
    ['blocking', false],
    ['non-blocking', true],
  ])(
    'logs every byte the terminal wrote before its last slave closed, past what the master had taken in (%s master)',
    async (_, nonblocking) => {
      // The master's line discipline takes in 4 KiB; the rest waits in the pty for a kernel worker.
      // A reader that trusts the hang-up after a short read ends there (what lost a container's last
      // line when the worker ran late): here that would be every line past the 4 KiB.
      const lines = Array.from({ length: 75 }, (_, i) =>
        `line ${String(i).padStart(2, '0')} `.padEnd(79, '.'),
      );
      const before = openFds();
      const pty = openPty('/dev/ptmx');
      if (nonblocking) setNonblock(pty.master);
      fs.writeSync(pty.slave, lines.map((l) => `${l}\n`).join(''));
      fs.closeSync(pty.slave); // the container exited

      const log = new Recorder();
      let shown = '';
      const tap = new TtyTap(
        pty.master,
        log,
        () => T,
        (bytes) => (shown += bytes.toString()),
      );
      await tap.done;

      expect(shown).toBe(lines.map((l) => `${l}\r\n`).join('')); // the terminal's \r\n, as typed
      expect(log.text.split('\n').filter(Boolean)).toEqual(
        lines.map((l) => `2023-11-14T22:13:20.000000000Z stdout F ${l}\r`),
      );
      expect(openFds()).toBe(before); // the master and the tap's own copy of it are closed
    },
  );

  it('takes nothing more once the monitor stops reading: the terminal keeps it for the next one', async () => {
    const pty = openPty('/dev/ptmx');
    const keeper = dupCloexec(pty.master); // the keeper's copy, which keeps the terminal alive
    fs.writeSync(pty.slave, 'for the next monitor\n');
    const log = new Recorder();
    const tap = new TtyTap(pty.master, log, () => T);
    tap.close();
    await tap.done;
    fs.closeSync(pty.slave);
    const buf = Buffer.alloc(100);
    const n = fs.readSync(keeper, buf, 0, buf.length, null);
    fs.closeSync(keeper);
    expect(buf.subarray(0, n).toString()).toBe('for the next monitor\r\n');
    expect(log.text).toBe('');
  });
});
