import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pooledTakeover } from './pool';

let dir: string;
const opened: number[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-pool-'));
});

afterEach(() => {
  opened.splice(0).forEach((fd) => fs.closeSync(fd));
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(file: string, flags: number): number {
  const fd = fs.openSync(file, flags);
  opened.push(fd);
  return fd;
}

const ownPid = { join: [], create: ['mount' as const, 'pid' as const] };

test('a container with its own PID namespace and FIFO or ignored stdio can use a pooled init', () => {
  const fifo = path.join(dir, 'out');
  execFileSync('mkfifo', [fifo]);
  const fd = open(fifo, fs.constants.O_RDWR);
  expect(pooledTakeover(ownPid, ['ignore', fd, fd])).toEqual({
    callerPid: process.pid,
    stdio: [null, fd, fd],
  });
});

test('a shared or host PID namespace needs a cold init', () => {
  const shared = {
    join: [{ type: 'pid' as const, path: '/run/nodelet/ns/pod/pid' }],
    create: ['mount' as const],
  };
  expect(pooledTakeover(shared, ['ignore', 'ignore', 'ignore'])).toBeUndefined();
  expect(pooledTakeover({ join: [], create: ['mount'] }, ['ignore', 'ignore', 'ignore'])).toBeUndefined();
});

test('stdio that is a pipe to create or a regular file needs a cold init', () => {
  const file = path.join(dir, 'log');
  fs.writeFileSync(file, '');
  expect(pooledTakeover(ownPid, ['ignore', 'pipe', 'pipe'])).toBeUndefined();
  expect(pooledTakeover(ownPid, ['ignore', open(file, fs.constants.O_WRONLY), 'ignore'])).toBeUndefined();
});
