import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  fdPath,
  mkdirAllInRoot,
  openInRootIfExists,
  openOrCreateInRoot,
  openRoot,
  type Root,
} from './in_root';

let tmp: string;
let outside: string;
let root: Root;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-in-root-'));
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.mkdirSync(path.join(tmp, 'root'));
  root = openRoot(path.join(tmp, 'root'));
});

afterEach(() => {
  fs.closeSync(root.fd);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const inRoot = (...p: string[]) => path.join(root.path, ...p);
const openedPath = (fd: number) => {
  try {
    return fs.readlinkSync(fdPath(fd));
  } finally {
    fs.closeSync(fd);
  }
};

test('an absolute symlink in the image resolves inside the root, never to the host path it names', () => {
  fs.writeFileSync(path.join(outside, 'secret'), 'host');
  fs.symlinkSync(outside, inRoot('etc'));
  expect(openInRootIfExists(root, '/etc/secret')).toBeUndefined();
  fs.mkdirSync(inRoot(outside), { recursive: true });
  fs.writeFileSync(inRoot(outside, 'secret'), 'image');
  expect(openedPath(openInRootIfExists(root, '/etc/secret') as number)).toBe(inRoot(outside, 'secret'));
});

test('a missing file target is created where a dangling symlink of the image leads, inside the root', () => {
  fs.mkdirSync(inRoot('etc'));
  fs.symlinkSync('/run/resolve/stub.conf', inRoot('etc/resolv.conf'));
  expect(openedPath(openOrCreateInRoot(root, '/etc/resolv.conf', 'file'))).toBe(
    inRoot('run/resolve/stub.conf'),
  );
  expect(fs.readFileSync(inRoot('run/resolve/stub.conf'), 'utf8')).toBe('');
});

test('an existing file target is used as it is, never truncated', () => {
  fs.writeFileSync(inRoot('hosts'), 'kept');
  fs.closeSync(openOrCreateInRoot(root, '/hosts', 'file'));
  expect(fs.readFileSync(inRoot('hosts'), 'utf8')).toBe('kept');
});

test('a directory to create that turned into a symlink to the host is refused, and nothing is made outside', () => {
  // What a swap between resolving the path and creating it leaves: the name is now a symlink.
  fs.symlinkSync(outside, inRoot('vol'));
  expect(() => mkdirAllInRoot(root, '/vol/sub')).toThrow(/vol/);
  expect(fs.readdirSync(outside)).toEqual([]);
});

test('mkdir -p makes each missing directory inside the root and hands back the last one', () => {
  fs.mkdirSync(inRoot('a'));
  expect(openedPath(mkdirAllInRoot(root, '/a/b/c'))).toBe(inRoot('a/b/c'));
});
