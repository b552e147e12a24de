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

test('the workload runs as PID 1 of its own PID namespace with the hostname set', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const spec = rt.defaultSpec({
        id: 'c1',
        rootPath: ctx.rootfs,
        hostname: 'box1',
        args: ['sh', '-c', 'echo pid=$$; hostname; ps -o pid,comm; true'],
      });
      return h.run(rt, spec);
    },
    { rootfs },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toBe('pid=1');
  expect(lines[1]).toBe('box1');
  // ps sees only the container's own processes: the shell (PID 1) and ps itself
  const ps = lines.slice(2).map((l: string) => l.trim().split(/\s+/));
  expect(ps).toEqual([
    ['PID', 'COMMAND'],
    ['1', 'sh'],
    [expect.any(String), 'ps'],
  ]);
});

test('the container sees no host mount, cannot write a read-only root and reads masked paths as empty', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const spec = rt.defaultSpec({
        id: 'c2',
        rootPath: ctx.rootfs,
        readonlyRoot: true,
        args: [
          'sh',
          '-c',
          [
            'cat /proc/mounts > /dev/shm/mounts',
            'touch /probe 2>&1; echo "touch=$?"',
            'echo "keys=$(wc -c < /proc/keys)"',
            'echo "firmware=$(ls /sys/firmware | wc -l)"',
            'echo 1 2>&1 > /proc/sys/kernel/domainname; echo "sysctl=$?"',
            'touch /dev/shm/ok && echo shm=ok',
            'ls /dev',
            'cat /dev/shm/mounts',
          ].join('; '),
        ],
      });
      return h.run(rt, spec);
    },
    { rootfs },
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('touch: /probe: Read-only file system');
  expect(r.stdout).toContain('touch=1');
  expect(r.stdout).toContain('keys=0');
  expect(r.stdout).toContain('firmware=0');
  expect(r.stdout).toMatch(/Read-only file system\nsysctl=1/);
  expect(r.stdout).toContain('shm=ok');
  for (const dev of [
    'null',
    'zero',
    'full',
    'random',
    'urandom',
    'tty',
    'pts',
    'shm',
    'mqueue',
    'ptmx',
    'fd',
    'stdin',
  ]) {
    expect(r.stdout.split('\n')).toContain(dev);
  }
  // Mount points inside are all the container's own: nothing from the host's tree shows through.
  const mountPoints = r.stdout
    .split('\n')
    .filter((l: string) => /^\S+ \/\S* \S+ /.test(l))
    .map((l: string) => l.split(' ')[1]);
  expect(mountPoints).toContain('/');
  expect(mountPoints).toContain('/proc');
  expect(r.stdout).not.toContain(tmp);
  expect(
    mountPoints.filter((m: string) => m.startsWith('/work') || m.startsWith('/mnt') || m.startsWith('/tmp')),
  ).toEqual([]);
});

test('a missing executable fails create with the CRI message and leaves nothing behind', async () => {
  const r = await runScenario(
    async (rt, _h, ctx) => {
      const spec = rt.defaultSpec({ id: 'c3', rootPath: ctx.rootfs, args: ['no-such-binary'] });
      try {
        await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' });
        return 'created';
      } catch (e) {
        return (e as Error).message;
      }
    },
    { rootfs },
  );
  expect(r).toBe(`Cannot create container 'c3': exec: "no-such-binary": executable file not found in $PATH`);
});

test('a host path bind-mounted read-only is visible and cannot be written', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const fs = h.fs;
      fs.mkdirSync(ctx.tmp + '/data');
      fs.writeFileSync(ctx.tmp + '/data/hello', 'from host');
      const spec = rt.defaultSpec({
        id: 'c4',
        rootPath: ctx.rootfs,
        args: ['sh', '-c', 'cat /mnt/data/hello; echo; touch /mnt/data/x 2>&1'],
      });
      spec.mounts.push({
        destination: '/mnt/data',
        source: ctx.tmp + '/data',
        type: 'bind',
        options: ['rbind', 'ro'],
      });
      return h.run(rt, spec);
    },
    { rootfs, tmp },
  );
  expect(r.stdout).toBe('from host\ntouch: /mnt/data/x: Read-only file system\n');
  expect(r.code).toBe(1);
});

test('an overlay root keeps the image layer untouched and collects writes in the upper dir', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      for (const d of ['upper', 'work', 'merged']) h.fs.mkdirSync(`${ctx.tmp}/${d}`);
      const spec = rt.defaultSpec({
        id: 'c5',
        rootPath: `${ctx.tmp}/merged`,
        overlay: { lowerDirs: [ctx.rootfs], upperDir: `${ctx.tmp}/upper`, workDir: `${ctx.tmp}/work` },
        args: ['sh', '-c', 'echo written > /etc/new-file; rm /etc/group; ls /etc'],
      });
      return h.run(rt, spec);
    },
    { rootfs, tmp },
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('new-file\npasswd\n');
  expect(fs.readFileSync(path.join(tmp, 'upper/etc/new-file'), 'utf8')).toBe('written\n');
  expect(fs.existsSync(path.join(rootfs, 'etc/group'))).toBe(true);
  expect(fs.existsSync(path.join(rootfs, 'etc/new-file'))).toBe(false);
});

test('namespaced sysctls are set inside the container and a missing bind source fails create cleanly', async () => {
  const r = await runScenario(
    async (rt, h, ctx) => {
      const spec = rt.defaultSpec({
        id: 'c6',
        rootPath: ctx.rootfs,
        args: ['cat', '/proc/sys/kernel/shm_rmid_forced'],
      });
      spec.linux.sysctl = { 'kernel.shm_rmid_forced': '1' };
      const ok = await h.run(rt, spec);
      const bad = rt.defaultSpec({ id: 'c7', rootPath: ctx.rootfs, args: ['true'] });
      bad.mounts.push({
        destination: '/data',
        source: `${ctx.tmp}/missing`,
        type: 'bind',
        options: ['rbind'],
      });
      const failure = await rt.spawnContainer(bad, { stdout: 'ignore', stderr: 'ignore' }).then(
        () => 'created',
        (e: Error) => e.message,
      );
      return { ok: ok.stdout, failure };
    },
    { rootfs, tmp },
  );
  expect(r.ok).toBe('1\n');
  expect(fs.readFileSync('/proc/sys/kernel/shm_rmid_forced', 'utf8')).toBe('0\n');
  expect(r.failure).toBe(
    `Cannot create container 'c7': Cannot mount '/data' (bind): source '${tmp}/missing' does not exist`,
  );
});
