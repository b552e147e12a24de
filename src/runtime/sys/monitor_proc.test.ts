import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  bytesInPipe,
  decodeWaitStatus,
  growPipe,
  makeFifo,
  makePipe,
  peekPipe,
  pollNow,
} from './monitor_proc';

describe('the monitor system calls', () => {
  it('decode a wait status into an exit code or a signal', () => {
    expect(decodeWaitStatus(3 << 8)).toEqual({ code: 3, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ code: null, signal: 9 });
  });

  it('peek at a pipe without taking the bytes out, and see a hang-up when the writer goes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-sys-'));
    try {
      makeFifo(path.join(dir, 'f'));
      const writer = fs.openSync(path.join(dir, 'f'), fs.constants.O_RDWR);
      const reader = fs.openSync(path.join(dir, 'f'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      expect(growPipe(writer, 1 << 20)).toBe(1 << 20);
      const [scratchRead, scratchWrite] = makePipe();
      fs.writeSync(writer, 'hello');
      expect(pollNow([reader])).toEqual([{ readable: true, hungUp: false }]);
      expect(peekPipe(reader, scratchWrite, 5)).toBe(5);
      expect(bytesInPipe(reader)).toBe(5); // still there
      const copy = Buffer.alloc(5);
      fs.readSync(scratchRead, copy, 0, 5, null);
      expect(copy.toString()).toBe('hello');
      fs.closeSync(writer);
      expect(pollNow([reader])[0].hungUp).toBe(true);
      [reader, scratchRead, scratchWrite].forEach((fd) => fs.closeSync(fd));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('name the call and the path when making a FIFO fails', () => {
    expect(() => makeFifo('/nonexistent-dir/f')).toThrow(
      "Cannot mkfifo '/nonexistent-dir/f': no such file or directory (ENOENT)",
    );
  });
});
