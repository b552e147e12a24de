// The cgroup v2 device filter around a real container: the engine's init (from dist/) builds a
// busybox root, the cgroup manager (told the host is pure v2: the cgroup2 tree, no v1 devices
// hierarchy) makes the container's cgroup with the spec's device rules, the container joins it
// and then tries devices as a root workload with the default capabilities (MKNOD among them).
// All of it runs in a scenario child process, never in the Jest worker.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildBusyboxRootfs } from '../../support/busybox_rootfs';
import {
  REPO,
  ensureBuilt,
  makeTempRoot,
  mountsUnder,
  removeTempRoot,
  runScenario,
} from '../runtime/harness';
import { CGROUP_ROOT } from './support';

jest.setTimeout(180_000);

const unified = fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))
  ? CGROUP_ROOT
  : path.join(CGROUP_ROOT, 'unified');
const runnable = process.getuid?.() === 0 && fs.existsSync(path.join(unified, 'cgroup.controllers'));
const testV2 = runnable ? test : test.skip;

let tmp: string;
let rootfs: string;

beforeAll(() => {
  if (runnable) ensureBuilt();
});

beforeEach(() => {
  tmp = makeTempRoot();
  rootfs = buildBusyboxRootfs(path.join(tmp, 'rootfs'));
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  removeTempRoot(tmp);
});

interface Ctx {
  cgroups: string;
  unified: string;
  cgroup: string;
  rootfs: string;
  privileged: boolean;
  script: string;
}

/** Runs `script` in a container whose v2 cgroup carries the default (or privileged) device rules. */
async function runWithDeviceFilter(privileged: boolean, script: string) {
  const cgroup = `/nodelet-test-${crypto.randomBytes(4).toString('hex')}/ctr`;
  const ctx: Ctx = {
    cgroups: path.join(REPO, 'dist/runtime/cgroups/index.js'),
    unified,
    cgroup,
    rootfs,
    privileged,
    script,
  };
  const result = await runScenario(async (rt, h, c: Ctx) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cg = require(c.cgroups) as typeof import('../../../src/runtime/cgroups');
    const manager = cg.createCgroupManager({ ...cg.detectCgroups(c.unified), v1: {} });
    const parent = '/' + c.cgroup.split('/')[1];
    manager.create(c.cgroup, { devices: [...(c.privileged ? cg.ALL_DEVICES : cg.DEFAULT_DEVICE_RULES)] });
    try {
      const spec = rt.defaultSpec({ id: 'dev1', rootPath: c.rootfs, args: ['sh', '-c', c.script] });
      const created = await rt.spawnContainer(spec, { stdout: 'pipe', stderr: 'pipe' });
      const stdout = h.collect(created.child.stdout);
      const stderr = h.collect(created.child.stderr);
      const done = h.exited(created.child);
      manager.join(c.cgroup, created.pid);
      await created.start();
      const status = await done;
      await new Promise((r) => setTimeout(r, 20));
      return { stdout: stdout(), stderr: stderr(), code: status.code };
    } finally {
      await manager.destroy(parent, { force: true });
    }
  }, ctx);
  expect(fs.existsSync(path.join(unified, path.dirname(cgroup)))).toBe(false);
  return result;
}

// Subshells: a failed redirection of the special builtin ':' would end the whole script.
const PROBE = [
  'mknod /dev/probe c 1 11 && echo made',
  '(: </dev/probe) && echo opened-probe',
  '(: </dev/null) && echo opened-null',
  'head -c 4 /dev/urandom | wc -c',
].join('; ');

testV2('a root container may make a device node but opens only the default devices', async () => {
  const r = await runWithDeviceFilter(false, PROBE);
  expect(r.stdout.split('\n')).toEqual(['made', 'opened-null', '4', '']);
  expect(r.stderr).toMatch(/can't open '?\/dev\/probe'?: Operation not permitted/);
});

testV2('a privileged container may open every device', async () => {
  const r = await runWithDeviceFilter(true, PROBE);
  expect(r.stdout.split('\n')).toEqual(['made', 'opened-probe', 'opened-null', '4', '']);
  expect(r.stderr).toBe('');
});
