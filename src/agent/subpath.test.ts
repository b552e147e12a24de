import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSubPath, subPathParts } from './subpath';

let tmp: string;
let root: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-subpath-'));
  root = path.join(tmp, 'vol');
  fs.mkdirSync(root);
  fs.mkdirSync(path.join(tmp, 'outside'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The path an O_PATH descriptor names, then closes it. */
function resolved(fd: number): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } finally {
    fs.closeSync(fd);
  }
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  }
  return 'no error';
};

test('subPath text that is absolute or climbs with ".." is refused before anything is opened', () => {
  expect(subPathParts('/etc')).toBeUndefined();
  expect(subPathParts('a/../../b')).toBeUndefined();
  expect(subPathParts('a//./b/')).toEqual(['a', 'b']);
  expect(code(() => openSubPath(root, '../outside', 0o777))).toBe('it leaves the volume');
});

test('missing directories are made beneath the volume with the given mode, whatever the umask', () => {
  expect(resolved(openSubPath(root, 'a/b/c', 0o777))).toBe(path.join(root, 'a/b/c'));
  expect(fs.statSync(path.join(root, 'a/b')).mode & 0o7777).toBe(0o777);
  expect(fs.statSync(path.join(root, 'a/b/c')).mode & 0o7777).toBe(0o777);
});

test('links that leave the volume are refused (to "/", climbing, absolute to a host directory, as a parent)', () => {
  fs.symlinkSync('/', path.join(root, 'root'));
  fs.symlinkSync('../'.repeat(10), path.join(root, 'up'));
  fs.symlinkSync(path.join(tmp, 'outside'), path.join(root, 'host'));
  fs.symlinkSync('../outside', path.join(root, 'sibling'));
  for (const subPath of ['root', 'up', 'host', 'sibling', 'host/made/here', 'sibling/made']) {
    expect(code(() => openSubPath(root, subPath, 0o777))).toBe('EXDEV');
  }
  expect(fs.readdirSync(path.join(tmp, 'outside'))).toEqual([]);
});

test('links that stay inside the volume are followed, as the kubelet does', () => {
  fs.mkdirSync(path.join(root, 'real'));
  fs.symlinkSync('real', path.join(root, 'inside'));
  fs.symlinkSync('../vol/real', path.join(root, 'roundabout'));
  expect(resolved(openSubPath(root, 'inside', 0o777))).toBe(path.join(root, 'real'));
  expect(resolved(openSubPath(root, 'inside/made', 0o777))).toBe(path.join(root, 'real/made'));
  // "../vol" passes through the volume's parent: beneath refuses it, whatever it comes back to.
  expect(code(() => openSubPath(root, 'roundabout', 0o777))).toBe('EXDEV');
});

test('a dangling link inside the volume is refused, not made into a directory elsewhere', () => {
  fs.symlinkSync('nowhere/deeper', path.join(root, 'dangling'));
  expect(code(() => openSubPath(root, 'dangling', 0o777))).toBe('ENOENT');
  expect(fs.existsSync(path.join(root, 'nowhere'))).toBe(false);
});

test('a file as a subPath is opened; a path through a file is refused', () => {
  fs.writeFileSync(path.join(root, 'file'), 'x');
  expect(resolved(openSubPath(root, 'file', 0o777))).toBe(path.join(root, 'file'));
  expect(code(() => openSubPath(root, 'file/below', 0o777))).toBe('ENOTDIR');
});
