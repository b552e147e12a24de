// Attack on `exec -t`: a running container with CAP_SYS_ADMIN unmounts its /dev/pts and puts a
// symlink to a host path (or a FIFO, or a device node it made) where ptmx was. The monitor, root
// on the host, opened `/proc/<pid>/root/dev/pts/ptmx` as a path: an absolute symlink there resolved
// on the HOST, so it opened the host's ptmx (a host pty handed to the container) or any host file
// or device. Here the container's root is a temp dir, as /proc/<pid>/root would show it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openContainerPty } from '../../src/runtime/init/container_pty';
import { mountsUnder } from '../integration/runtime/harness';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-pty-'));
  fs.mkdirSync(path.join(root, 'dev/pts'), { recursive: true });
});

afterEach(() => {
  for (const m of mountsUnder(root).reverse()) execFileSync('umount', [m]);
  fs.rmSync(root, { recursive: true, force: true });
});

const ptmx = () => path.join(root, 'dev/pts/ptmx');

test("a symlink to the host's /dev/ptmx resolves inside the container and is refused", () => {
  fs.symlinkSync('/dev/ptmx', ptmx());
  expect(() => openContainerPty(root)).toThrow(
    /Cannot allocate a terminal in the container: \/dev\/pts\/ptmx/,
  );
});

test('a FIFO in place of ptmx is refused without being opened', () => {
  execFileSync('mkfifo', [ptmx()]);
  expect(() => openContainerPty(root)).toThrow('/dev/pts/ptmx is not the ptmx of a devpts filesystem');
});

test('a 5:2 node made outside devpts is refused: it would open the host devpts', () => {
  execFileSync('mknod', [ptmx(), 'c', '5', '2']);
  expect(() => openContainerPty(root)).toThrow('/dev/pts/ptmx is not the ptmx of a devpts filesystem');
});

test("the container's own devpts gives a pty from that instance", () => {
  execFileSync('mount', [
    '-t',
    'devpts',
    '-o',
    'newinstance,ptmxmode=0666',
    'devpts',
    path.join(root, 'dev/pts'),
  ]);
  const pty = openContainerPty(root);
  try {
    expect(pty.index).toBe(0); // the first pty of a fresh instance, not one of the host's
    expect(fs.existsSync(path.join(root, 'dev/pts/0'))).toBe(true);
  } finally {
    fs.closeSync(pty.master);
    fs.closeSync(pty.slave);
  }
});
