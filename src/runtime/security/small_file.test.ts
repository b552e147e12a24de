import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSmallFileInRoot } from './small_file';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-small-file-'));
  fs.mkdirSync(path.join(root, 'etc'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('readSmallFileInRoot', () => {
  it('reads a small regular file', () => {
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
    expect(readSmallFileInRoot(root, 'etc/passwd', 'the passwd')).toBe('root:x:0:0::/:/bin/sh\n');
  });

  it('answers undefined for a missing file or a missing directory', () => {
    expect(readSmallFileInRoot(root, 'etc/passwd', 'x')).toBeUndefined();
    expect(readSmallFileInRoot(root, 'nope/passwd', 'x')).toBeUndefined();
  });

  it('refuses a FIFO without waiting for a writer', () => {
    execFileSync('mkfifo', [path.join(root, 'etc/passwd')]);
    expect(() => readSmallFileInRoot(root, 'etc/passwd', "the image's /etc/passwd")).toThrow(
      "Cannot read the image's /etc/passwd: it is a FIFO, not a regular file",
    );
  });

  it('refuses a file bigger than the cap', () => {
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'x'.repeat(11));
    expect(() => readSmallFileInRoot(root, 'etc/passwd', 'the passwd', 10)).toThrow(
      'it is 11 bytes, more than the 10 allowed',
    );
  });

  it('resolves an absolute symlink inside the root, not on the host', () => {
    fs.writeFileSync(path.join(root, 'inside'), 'in the root\n');
    fs.symlinkSync('/inside', path.join(root, 'etc/passwd'));
    expect(readSmallFileInRoot(root, 'etc/passwd', 'x')).toBe('in the root\n');
    fs.symlinkSync('/etc/hostname', path.join(root, 'etc/group'));
    expect(readSmallFileInRoot(root, 'etc/group', 'x')).toBeUndefined();
  });

  it('refuses a directory', () => {
    fs.mkdirSync(path.join(root, 'etc/passwd'));
    expect(() => readSmallFileInRoot(root, 'etc/passwd', 'x')).toThrow('it is a directory');
  });
});
