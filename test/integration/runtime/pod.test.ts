import fs from 'node:fs';
import path from 'node:path';
import { buildBusyboxRootfs } from '../../support/busybox_rootfs';
import { ensureBuilt, makeTempRoot, mountsUnder, removeTempRoot, runScenario } from './harness';

jest.setTimeout(120_000);

let tmp: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  tmp = makeTempRoot();
  buildBusyboxRootfs(path.join(tmp, 'a'));
  buildBusyboxRootfs(path.join(tmp, 'b'));
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  expect(fs.existsSync(path.join(tmp, 'run/ns/pod1'))).toBe(false);
  removeTempRoot(tmp);
});

function alive(pids: number[]): number[] {
  return pids.filter((pid) => fs.existsSync(`/proc/${pid}`));
}

test('two containers of one pod share its pinned network, IPC and UTS namespaces and talk over 127.0.0.1', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const runDir = ctx.tmp + '/run';
      const pinned = rt.pinNamespaces(runDir, 'pod1', ['network', 'ipc', 'uts']);
      const join = (['network', 'ipc', 'uts'] as const).map((type) => ({ type, path: pinned[type] }));
      const show = 'for ns in net ipc uts; do readlink /proc/self/ns/$ns; done';
      try {
        const server = rt.defaultSpec({
          id: 'server',
          rootPath: ctx.tmp + '/a',
          hostname: 'pod1',
          join,
          args: ['sh', '-c', `${show}; ip link set lo up; echo hello-from-server | nc -l -p 8080`],
        });
        const client = rt.defaultSpec({
          id: 'client',
          rootPath: ctx.tmp + '/b',
          join,
          args: [
            'sh',
            '-c',
            `${show}; hostname; for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 8080 </dev/null && break; sleep 0.3; done`,
          ],
        });
        const s = await rt.spawnContainer(server, { stdout: 'pipe', stderr: 'pipe' });
        const serverOut = h.collect(s.child.stdout);
        const serverDone = h.exited(s.child);
        await s.start();
        const c = await h.run(rt, client);
        s.kill();
        await serverDone;
        return { server: serverOut(), client: c.stdout, pids: [s.pid] };
      } finally {
        rt.unpinNamespaces(runDir, 'pod1');
      }
    },
    { tmp },
  );
  const serverNs = r.server.split('\n').slice(0, 3);
  const clientLines = r.client.split('\n');
  expect(clientLines.slice(0, 3)).toEqual(serverNs);
  expect(serverNs).not.toContain(fs.readlinkSync('/proc/self/ns/net'));
  expect(clientLines[3]).toBe('pod1');
  expect(clientLines).toContain('hello-from-server');
  expect(alive(r.pids)).toEqual([]);
});

test('with a shared PID namespace, catatonit is PID 1 and containers see each other', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const runDir = ctx.tmp + '/run';
      const init = await rt.startPidNamespaceInit(runDir, 'pod1');
      const initDone = h.exited(init.child);
      try {
        const join = [{ type: 'pid' as const, path: init.path }];
        const sleeper = rt.defaultSpec({
          id: 'sleeper',
          rootPath: ctx.tmp + '/a',
          join,
          args: ['sleep', '30'],
        });
        const s = await rt.spawnContainer(sleeper, { stdout: 'ignore', stderr: 'ignore' });
        const sleeperDone = h.exited(s.child);
        await s.start();
        const ps = rt.defaultSpec({
          id: 'ps',
          rootPath: ctx.tmp + '/b',
          join,
          args: ['ps', '-o', 'pid,comm,args'],
        });
        const out = await h.run(rt, ps);
        s.kill();
        await sleeperDone;
        return { out: out.stdout, pids: [s.pid, init.pid] };
      } finally {
        init.child.kill('SIGKILL');
        await initDone;
        rt.unpinNamespaces(runDir, 'pod1');
      }
    },
    { tmp },
  );
  const rows = r.out
    .trim()
    .split('\n')
    .slice(1)
    .map((l: string) => l.trim().split(/\s+/));
  expect(rows[0]?.slice(0, 2)).toEqual(['1', 'catatonit']);
  expect(rows.some((row: string[]) => row[1] === 'sleep' && row[0] !== '1')).toBe(true);
  expect(alive(r.pids)).toEqual([]);
});
