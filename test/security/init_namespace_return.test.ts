// Attack on the daemon's and monitor's namespace dance: a thread that cannot move back out of a
// container's namespaces after spawning its init must not carry on there (every later call would
// run inside the container's namespace). Here the move back is made to fail for real: while in a
// fresh UTS namespace the thread loses CAP_SYS_ADMIN, so setns back is refused by the kernel. The
// process must abort instead of throwing an error someone could catch and carry on from.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt, REPO } from '../integration/runtime/harness';

jest.setTimeout(60_000);

beforeAll(() => ensureBuilt());

const SCRIPT = `
const fs = require('node:fs');
const { runInNamespaces } = require(${JSON.stringify(path.join(REPO, 'dist/runtime/namespaces/index.js'))});
const { capGet, capSet } = require(${JSON.stringify(path.join(REPO, 'dist/runtime/sys/caps.js'))});
const CAP_SYS_ADMIN = 21n;
try {
  runInNamespaces({ join: [], create: ['uts'] }, () => {
    const caps = capGet();
    capSet({ ...caps, effective: caps.effective & ~(1n << CAP_SYS_ADMIN) });
  });
} catch (err) {
  process.stdout.write('caught: ' + err.message + '\\n');
}
const host = fs.readlinkSync('/proc/1/ns/uts');
const mine = fs.readlinkSync('/proc/thread-self/ns/uts');
process.stdout.write('carried on ' + (host === mine ? 'in the host UTS namespace' : 'in the container UTS namespace') + '\\n');
`;

test('a thread that cannot return from a container namespace aborts its process', async () => {
  const child = spawn(process.execPath, ['-e', SCRIPT], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  expect(stdout).toBe('');
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGABRT' });
  expect(stderr).toMatch(/cannot return to the caller's uts namespace: .*EPERM.*; aborting/);
});
