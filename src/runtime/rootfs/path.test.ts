import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveInRoot } from './path';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-path-'));
  fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('an absolute symlink in the image resolves inside the root', () => {
  fs.symlinkSync('/usr/lib', path.join(root, 'lib'));
  expect(resolveInRoot(root, '/lib/x.so')).toBe(path.join(root, 'usr/lib/x.so'));
});

test('dot-dot never climbs above the root, also through a symlink', () => {
  fs.symlinkSync('../../../../etc', path.join(root, 'escape'));
  expect(resolveInRoot(root, '/../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
  expect(resolveInRoot(root, '/escape/shadow')).toBe(path.join(root, 'etc/shadow'));
});

test('a symlink loop is refused instead of spinning', () => {
  fs.symlinkSync('/b', path.join(root, 'a'));
  fs.symlinkSync('/a', path.join(root, 'b'));
  expect(() => resolveInRoot(root, '/a/x')).toThrow(/too many symbolic links/);
});

test('missing components are kept literally so the caller can create them', () => {
  expect(resolveInRoot(root, '/run/secrets/token')).toBe(path.join(root, 'run/secrets/token'));
});
