import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rotateInPlace } from './log_rotation';

describe('rotating monitor.log in place', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-logrot-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a log over the limit moves to .1 and the writer goes on at the start of an empty file', () => {
    const file = path.join(dir, 'monitor.log');
    const fd = fs.openSync(file, 'a');
    try {
      fs.writeSync(fd, 'old line\n'.repeat(20));
      expect(rotateInPlace(file, fd, 100)).toBe(true);
      fs.writeSync(fd, 'new line\n');
      expect(fs.readFileSync(file, 'utf8')).toBe('new line\n');
      expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe('old line\n'.repeat(20));
    } finally {
      fs.closeSync(fd);
    }
  });

  test('a log under the limit, or a descriptor that is another file, is left alone', () => {
    const file = path.join(dir, 'monitor.log');
    const other = path.join(dir, 'other.log');
    fs.writeFileSync(file, 'x'.repeat(500));
    const small = fs.openSync(file, 'a');
    const foreign = fs.openSync(other, 'a');
    try {
      expect(rotateInPlace(file, small, 1000)).toBe(false);
      fs.writeSync(foreign, 'y'.repeat(500));
      expect(rotateInPlace(file, foreign, 100)).toBe(false);
      expect(fs.readFileSync(file, 'utf8')).toHaveLength(500);
      expect(fs.existsSync(`${file}.1`)).toBe(false);
    } finally {
      fs.closeSync(small);
      fs.closeSync(foreign);
    }
  });
});
