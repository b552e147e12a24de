import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bytesInPipe } from '../runtime/sys';
import type { LogSink } from './cri_log';
import { ContainerDir } from './records';
import { closeChildStdio, FifoTap, makeFifos, openChildStdio, Scratch } from './stdio';

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
