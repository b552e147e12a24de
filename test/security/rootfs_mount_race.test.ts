// The mount-target race of CVE-2021-30465 and CVE-2025-31133, for real: one container (the
// attacker) shares a directory with another container's /dev (as two containers of one pod can
// share an emptyDir, or two pods a hostPath) and swaps the device names in it with symlinks to a
// host file in a tight renameat2(RENAME_EXCHANGE) loop, while the victim is created again and
// again. The runtime builds the victim's /dev there (mknod, chmod) and masks /proc files with its
// /dev/null: done by name, a swap between check and use re-modes the host file or bind-mounts it
// into the victim. Done through descriptors opened inside the root, it never reaches the host.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildBusyboxRootfs } from '../support/busybox_rootfs';
import {
  REPO,
  ensureBuilt,
  makeTempRoot,
  mountsUnder,
  removeTempRoot,
  runScenario,
} from '../integration/runtime/harness';

const CREATIONS = 200;
jest.setTimeout(900_000);

let tmp: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  tmp = makeTempRoot();
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  removeTempRoot(tmp);
});

interface RaceResult {
  /** Victim output that showed the canary's content. */
  leaks: string[];
  /** Why creations were refused, with how many. */
  refused: Record<string, number>;
  ran: number;
  /** How many of those that ran came from the init pool. */
  pooled: number;
}

/**
 * Runs the attacker (exchange_loop with `attackArgs`, the shared directory at /shared) and creates
 * the victim CREATIONS times with `victimMounts` added last, as the CRI adds a pod's volumes.
 */
async function race(
  shared: string,
  attackArgs: string[],
  victimMounts: { destination: string; source: string }[],
  victimArgs: string[],
): Promise<RaceResult> {
  const attackerRoot = buildBusyboxRootfs(path.join(tmp, 'attacker'));
  const victimRoot = buildBusyboxRootfs(path.join(tmp, 'victim'));
  execFileSync('gcc', [
    '-static',
    '-O2',
    '-o',
    path.join(attackerRoot, 'bin/exchange_loop'),
    path.join(REPO, 'test/security/fixtures/exchange_loop.c'),
  ]);
  const started = Date.now();
  const r = await runScenario(
    async (rt, h, ctx) => {
      const attacker = rt.defaultSpec({
        id: 'attacker',
        rootPath: ctx.attackerRoot,
        args: ['/bin/exchange_loop', '/shared', ...ctx.attackArgs],
      });
      attacker.mounts.push({ destination: '/shared', type: 'bind', source: ctx.shared, options: ['rbind'] });
      const a = await rt.spawnContainer(attacker, { stdout: 'ignore', stderr: 'ignore' });
      const attackerDone = h.exited(a.child);
      await a.start();
      // Victims start from a pool of inits, as the monitor starts containers, and write to a FIFO.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { execFileSync: run } = require('node:child_process') as typeof import('node:child_process');
      const fifo = ctx.shared + '.out';
      run('mkfifo', [fifo]);
      const writer = h.fs.openSync(fifo, h.fs.constants.O_RDWR);
      const reader = h.fs.openSync(fifo, h.fs.constants.O_RDONLY | h.fs.constants.O_NONBLOCK);
      const drain = () => {
        const buf = Buffer.alloc(65536);
        let text = '';
        for (;;) {
          try {
            const n = h.fs.readSync(reader, buf);
            if (n <= 0) return text;
            text += buf.toString('utf8', 0, n);
          } catch {
            return text;
          }
        }
      };
      const pool = new rt.InitPool({ size: 2 });
      pool.fill();
      const leaks: string[] = [];
      const refused: Record<string, number> = {};
      let ran = 0;
      let pooled = 0;
      try {
        for (let i = 0; i < ctx.creations; i++) {
          const victim = rt.defaultSpec({
            id: `victim-${i}`,
            rootPath: ctx.victimRoot,
            args: ctx.victimArgs,
          });
          for (const m of ctx.victimMounts) victim.mounts.push({ ...m, type: 'bind', options: ['rbind'] });
          try {
            const c = await rt.spawnContainer(victim, { stdout: writer, stderr: writer }, { pool });
            const done = h.exited(c.child);
            await c.start();
            await done;
            ran++;
            if (c.fromPool) pooled++;
            const out = drain();
            if (out.includes('CANARY')) leaks.push(out);
          } catch (e) {
            // Refusing a container whose volume changed under the runtime is a right answer.
            const why = String((e as Error).message)
              .replace(/victim-\d+/, 'victim-N')
              .replace(/\/tmp\/nodelet-engine-\w+/, '<tmp>')
              .replace(/fd \d+/, 'fd N');
            refused[why] = (refused[why] ?? 0) + 1;
          }
        }
      } finally {
        await pool.close();
        a.kill();
        await attackerDone;
        h.fs.closeSync(writer);
        h.fs.closeSync(reader);
      }
      return { leaks, refused, ran, pooled };
    },
    { attackerRoot, victimRoot, shared, attackArgs, victimMounts, victimArgs, creations: CREATIONS },
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${CREATIONS} creations in ${seconds.toFixed(1)} s: ${r.ran} ran (${r.pooled} pooled)`,
    r.refused,
  );
  expect(r.ran + Object.values(r.refused).reduce((x, y) => x + y, 0)).toBe(CREATIONS);
  return r;
}

test('a container swapping symlinks into another container /dev never reaches a host file in 200 creations', async () => {
  const shared = path.join(tmp, 'shared-dev');
  fs.mkdirSync(shared);
  const canary = path.join(tmp, 'host-canary');
  const secret = 'HOST-CANARY-SECRET\n';
  fs.writeFileSync(canary, secret, { mode: 0o600 });
  fs.chownSync(canary, 4242, 4243);
  const before = fs.statSync(canary);

  // As the CRI builds it: the default /dev tmpfs first, the volume bound over it last. The victim
  // reads the masked /proc files, which must be empty (its /dev/null), never the host file.
  const r = await race(
    shared,
    [canary, 'null', 'zero', 'full', 'tty', 'random'],
    [{ destination: '/dev', source: shared }],
    ['cat', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'],
  );

  const after = fs.statSync(canary);
  expect(r.leaks).toEqual([]);
  expect({ mode: after.mode, uid: after.uid, gid: after.gid }).toEqual({
    mode: before.mode,
    uid: before.uid,
    gid: before.gid,
  });
  expect(fs.readFileSync(canary, 'utf8')).toBe(secret);
  expect(r.ran).toBeGreaterThan(0);
});

test('mount targets inside a volume that another container swaps for symlinks never create or truncate a host file in 200 creations', async () => {
  const shared = path.join(tmp, 'shared-vol');
  fs.mkdirSync(path.join(shared, 'sub'), { recursive: true });
  const hostDir = path.join(tmp, 'host-dir');
  fs.mkdirSync(hostDir);
  const secret = 'HOST-CANARY-SECRET\n';
  fs.writeFileSync(path.join(hostDir, 'kept'), secret);
  const data = path.join(tmp, 'data');
  fs.writeFileSync(data, 'volume data\n');

  // sub is swapped for a symlink to the host directory; log flickers as a symlink to a host file.
  await race(
    shared,
    [hostDir, 'sub', '@log', '@kept'],
    [
      { destination: '/vol', source: shared },
      { destination: '/vol/sub/data', source: data },
      { destination: '/vol/log', source: data },
      { destination: '/vol/kept', source: data },
    ],
    ['true'],
  );

  expect(fs.readdirSync(hostDir)).toEqual(['kept']);
  expect(fs.readFileSync(path.join(hostDir, 'kept'), 'utf8')).toBe(secret);
});
