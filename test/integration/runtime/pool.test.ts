// The init pool: containers created from pre-started inits behave as cold ones do (PID 1 of their
// own PID namespace, the pod's namespaces, output in their FIFOs), the pool refills, and no
// pooled init outlives its pool or its parent.
import fs from 'node:fs';
import path from 'node:path';
import { buildBusyboxRootfs } from '../../support/busybox_rootfs';
import { ensureBuilt, makeTempRoot, mountsUnder, removeTempRoot, runScenario } from './harness';

jest.setTimeout(120_000);

let tmp: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  tmp = makeTempRoot();
  buildBusyboxRootfs(path.join(tmp, 'rootfs'));
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  expect(fs.existsSync(path.join(tmp, 'run/ns/pod1'))).toBe(false);
  removeTempRoot(tmp);
});

function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      // A zombie is gone for our purpose: only its parent's reaping is left.
      return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  });
}

async function gone(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 100 && alive(pids).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  return alive(pids);
}

test('a container from the pool runs as PID 1 in its own namespaces and the pod ones, writing to its FIFO', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
      const fifo = ctx.tmp + '/stdout';
      execFileSync('mkfifo', [fifo]);
      const writer = h.fs.openSync(fifo, h.fs.constants.O_RDWR);
      const reader = h.fs.openSync(fifo, h.fs.constants.O_RDONLY | h.fs.constants.O_NONBLOCK);
      const pool = new rt.InitPool({ size: 1 });
      const pinned = rt.pinNamespaces(ctx.tmp + '/run', 'pod1', ['network', 'ipc']);
      try {
        pool.fill();
        const first = pool.idlePids;
        const spec = rt.defaultSpec({
          id: 'pooled',
          rootPath: ctx.tmp + '/rootfs',
          hostname: 'from-pool',
          join: [
            { type: 'network', path: pinned.network },
            { type: 'ipc', path: pinned.ipc },
          ],
          args: ['sh', '-c', 'echo pid=$$; hostname; set -- /proc/[0-9]*; echo $#; readlink /proc/1/ns/net'],
        });
        const c = await rt.spawnContainer(spec, { stdout: writer, stderr: writer }, { pool });
        const done = h.exited(c.child);
        await c.start();
        const status = await done;
        const out = Buffer.alloc(4096);
        const n = h.fs.readSync(reader, out);
        for (let i = 0; i < 100 && pool.idlePids.length === 0; i++)
          await new Promise((res) => setTimeout(res, 50));
        const refill = pool.idlePids;
        return {
          fromPool: c.fromPool,
          sameProcess: c.pid === first[0],
          status,
          stdout: out.toString('utf8', 0, n),
          podNet: `net:[${h.fs.statSync(pinned.network as string).ino}]`,
          refilled: refill.length === 1 && refill[0] !== first[0],
        };
      } finally {
        await pool.close();
        rt.unpinNamespaces(ctx.tmp + '/run', 'pod1');
        h.fs.closeSync(writer);
        h.fs.closeSync(reader);
      }
    },
    { tmp },
  );
  expect(r.fromPool).toBe(true);
  expect(r.sameProcess).toBe(true);
  expect(r.status).toEqual({ code: 0, signal: null });
  const [pid, hostname, processes, net] = r.stdout.trim().split('\n');
  expect(pid).toBe('pid=1');
  expect(hostname).toBe('from-pool');
  // The shell's own glob, so no other process races the count: the shell alone, nothing of the host.
  expect(processes).toBe('1');
  expect(net).toBe(r.podNet);
  expect(r.refilled).toBe(true);
});

test('a pooled init keeps the access mode of each FIFO, so a read-only stdin sees end-of-file', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
      const [stdin, stdout] = [ctx.tmp + '/stdin', ctx.tmp + '/stdout'];
      execFileSync('mkfifo', [stdin, stdout]);
      const { O_RDWR, O_RDONLY, O_NONBLOCK } = h.fs.constants;
      const holder = h.fs.openSync(stdin, O_RDWR); // as the monitor's stdin_once holder
      const input = h.fs.openSync(stdin, O_RDONLY);
      const output = h.fs.openSync(stdout, O_RDWR);
      const reader = h.fs.openSync(stdout, O_RDONLY | O_NONBLOCK);
      const pool = new rt.InitPool({ size: 1 });
      try {
        pool.fill();
        const spec = rt.defaultSpec({
          id: 'once',
          rootPath: ctx.tmp + '/rootfs',
          args: ['sh', '-c', 'cat; echo "stdin closed"'],
        });
        const c = await rt.spawnContainer(spec, { stdin: input, stdout: output, stderr: output }, { pool });
        h.fs.closeSync(input);
        const done = h.exited(c.child);
        await c.start();
        h.fs.writeSync(holder, 'hello\n');
        h.fs.closeSync(holder);
        const status = await done;
        const out = Buffer.alloc(4096);
        const n = h.fs.readSync(reader, out);
        return { fromPool: c.fromPool, status, stdout: out.toString('utf8', 0, n) };
      } finally {
        await pool.close();
        h.fs.closeSync(output);
        h.fs.closeSync(reader);
      }
    },
    { tmp },
  );
  expect(r).toEqual({ fromPool: true, status: { code: 0, signal: null }, stdout: 'hello\nstdin closed\n' });
});

test('a container whose stdio is not a FIFO, or that shares the host PID namespace, starts cold', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const pool = new rt.InitPool({ size: 1 });
      try {
        pool.fill();
        const piped = rt.defaultSpec({ id: 'piped', rootPath: ctx.tmp + '/rootfs', args: ['true'] });
        const a = await rt.spawnContainer(piped, { stdout: 'pipe', stderr: 'pipe' }, { pool });
        const aDone = h.exited(a.child);
        await a.start();
        await aDone;
        const hostPid = rt.defaultSpec({
          id: 'hostpid',
          rootPath: ctx.tmp + '/rootfs',
          args: ['sh', '-c', 'test $$ != 1'],
        });
        hostPid.linux.namespaces = hostPid.linux.namespaces.filter((ns) => ns.type !== 'pid');
        const b = await rt.spawnContainer(hostPid, { stdout: 'ignore', stderr: 'ignore' }, { pool });
        const bDone = h.exited(b.child);
        await b.start();
        return { a: a.fromPool, b: b.fromPool, bStatus: await bDone, stillIdle: pool.idlePids.length };
      } finally {
        await pool.close();
      }
    },
    { tmp },
  );
  expect(r).toEqual({ a: false, b: false, bStatus: { code: 0, signal: null }, stillIdle: 1 });
});

test('a failed create through a pooled init reports the error and leaves no process or mount behind', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const pool = new rt.InitPool({ size: 1 });
      try {
        pool.fill();
        const taken = pool.idlePids[0];
        const spec = rt.defaultSpec({ id: 'bad', rootPath: ctx.tmp + '/rootfs', args: ['no-such-tool'] });
        const error = await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' }, { pool }).then(
          () => 'created',
          (err: Error) => err.message,
        );
        return { error, taken };
      } finally {
        await pool.close();
      }
    },
    { tmp },
  );
  expect(r.error).toBe(
    `Cannot create container 'bad': exec: "no-such-tool": executable file not found in $PATH`,
  );
  expect(await gone([r.taken])).toEqual([]);
});

test('a pooled init killed while it waited is replaced by a cold start for that container', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const pool = new rt.InitPool({ size: 1 });
      try {
        pool.fill();
        await new Promise((res) => setTimeout(res, 500));
        const [victim] = pool.idlePids;
        process.kill(victim as number, 'SIGKILL'); // its exit is not heard before the take
        const spec = rt.defaultSpec({ id: 'after-kill', rootPath: ctx.tmp + '/rootfs', args: ['true'] });
        const c = await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' }, { pool });
        const done = h.exited(c.child);
        await c.start();
        return { fromPool: c.fromPool, status: await done, replaced: c.pid !== victim };
      } finally {
        await pool.close();
      }
    },
    { tmp },
  );
  expect(r).toEqual({ fromPool: false, status: { code: 0, signal: null }, replaced: true });
});

test('idle pooled inits die with the process that started them, even when it never closed the pool', async () => {
  const r = await runScenario(
    async (rt) => {
      const pool = new rt.InitPool({ size: 2 });
      pool.fill();
      await new Promise((res) => setTimeout(res, 1000)); // booted and waiting
      return { pids: pool.idlePids };
    },
    { tmp },
  );
  expect(r.pids).toHaveLength(2);
  expect(await gone(r.pids)).toEqual([]);
});
