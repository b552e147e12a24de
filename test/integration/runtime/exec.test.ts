import fs from 'node:fs';
import path from 'node:path';
import { buildBusyboxRootfs } from '../../support/busybox_rootfs';
import { ensureBuilt, makeTempRoot, mountsUnder, removeTempRoot, runScenario } from './harness';

jest.setTimeout(120_000);

let tmp: string;
let rootfs: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  tmp = makeTempRoot();
  rootfs = buildBusyboxRootfs(path.join(tmp, 'rootfs'));
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  removeTempRoot(tmp);
});

test('exec without a terminal returns stdout, stderr and the exit code, inside the container', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const spec = rt.defaultSpec({
        id: 'e1',
        rootPath: ctx.rootfs,
        hostname: 'inside',
        args: ['sleep', '30'],
      });
      const c = await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' });
      const done = h.exited(c.child);
      await c.start();
      try {
        const e = await rt.execInContainer(
          { pid: c.pid, spec },
          { args: ['sh', '-c', 'echo out; hostname; set -- /proc/[0-9]*; echo $#; echo err >&2; exit 3'] },
          {},
        );
        const stdout = h.collect(e.child.stdout);
        const stderr = h.collect(e.child.stderr);
        const status = await e.wait();
        await new Promise((res) => setTimeout(res, 20));
        const missing = await rt.execInContainer({ pid: c.pid, spec }, { args: ['nope'] }, {}).then(
          () => 'started',
          (err: Error) => err.message,
        );
        return { stdout: stdout(), stderr: stderr(), status, missing, pids: [c.pid, e.pid] };
      } finally {
        c.kill();
        await done;
      }
    },
    { rootfs },
  );
  // Only the container's processes are seen: PID 1 (sleep) and the shell (its own glob, so no
  // other process races the count, as ps | grep did)
  expect(r.stdout).toBe('out\ninside\n2\n');
  expect(r.stderr).toBe('err\n');
  expect(r.status).toEqual({ exitCode: 3, signal: null });
  expect(r.missing).toBe(`Cannot exec in container 'e1': exec: "nope": executable file not found in $PATH`);
  expect(r.pids.filter((pid: number) => fs.existsSync(`/proc/${pid}`))).toEqual([]);
});

test('exec with a terminal gets a pty of the container and sees window resizes', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tty = require('node:tty');
      const spec = rt.defaultSpec({ id: 'e2', rootPath: ctx.rootfs, args: ['sleep', '30'] });
      const c = await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' });
      const done = h.exited(c.child);
      await c.start();
      try {
        const e = await rt.execInContainer(
          { pid: c.pid, spec },
          { args: ['sh', '-c', 'read line; tty; stty size; exit 7'], terminal: true },
          {},
        );
        const master = new tty.ReadStream(e.terminal!.master);
        let out = '';
        master.on('data', (d: Buffer) => (out += d.toString()));
        master.on('error', () => undefined); // EIO once the last slave closes
        e.resize({ rows: 33, cols: 101 });
        h.fs.writeSync(e.terminal!.master, 'go\n');
        const status = await e.wait();
        await new Promise((res) => setTimeout(res, 50));
        master.destroy();
        return { out, status };
      } finally {
        c.kill();
        await done;
      }
    },
    { rootfs },
  );
  expect(r.out.replace(/\r/g, '')).toBe('go\n/dev/pts/0\n33 101\n');
  expect(r.status).toEqual({ exitCode: 7, signal: null });
});

test('a container with a terminal gets its pty as controlling terminal with the size set before start', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tty = require('node:tty');
      const spec = rt.defaultSpec({ id: 'e3', rootPath: ctx.rootfs, args: ['sh', '-c', 'tty; stty size'] });
      spec.process.terminal = true;
      const c = await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore', terminal: true });
      const done = h.exited(c.child);
      const master = new tty.ReadStream(c.terminal!.master);
      let out = '';
      master.on('data', (d: Buffer) => (out += d.toString()));
      master.on('error', () => undefined);
      c.resize({ rows: 12, cols: 34 });
      await c.start();
      const status = await done;
      await new Promise((res) => setTimeout(res, 50));
      master.destroy();
      return { out, status };
    },
    { rootfs },
  );
  expect(r.out.replace(/\r/g, '')).toBe('/dev/pts/0\n12 34\n');
  expect(r.status).toEqual({ code: 0, signal: null });
});
