import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from './lookup';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-lookup-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'bin/data'), 'x', { mode: 0o644 });
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a bare name is searched in the container PATH', () => {
  expect(findExecutable('tool', [`PATH=/nowhere:${dir}/bin`], '/')).toBe(path.join(dir, 'bin/tool'));
});

test('a bare name missing from PATH fails with the CRI message', () => {
  expect(() => findExecutable('nope', [`PATH=${dir}/bin`], '/')).toThrow(
    'exec: "nope": executable file not found in $PATH',
  );
});

test('a file without execute permission is not a match', () => {
  expect(() => findExecutable('data', [`PATH=${dir}/bin`], '/')).toThrow(/executable file not found/);
});

test('a relative path is resolved against the working directory', () => {
  expect(findExecutable('./bin/tool', [], dir)).toBe(path.join(dir, 'bin/tool'));
  expect(() => findExecutable('./bin/missing', [], dir)).toThrow(
    'exec: "./bin/missing": stat ./bin/missing: no such file or directory',
  );
});
