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

test('a container swapping symlinks into another container /dev never reaches a host file in 200 creations', async () => {
  const attackerRoot = buildBusyboxRootfs(path.join(tmp, 'attacker'));
  const victimRoot = buildBusyboxRootfs(path.join(tmp, 'victim'));
  execFileSync('gcc', [
    '-static',
    '-O2',
    '-o',
    path.join(attackerRoot, 'bin/exchange_loop'),
    path.join(REPO, 'test/security/fixtures/exchange_loop.c'),
  ]);
  const shared = path.join(tmp, 'shared-dev');
  fs.mkdirSync(shared);
  const canary = path.join(tmp, 'host-canary');
  const secret = 'HOST-CANARY-SECRET\n';
  fs.writeFileSync(canary, secret, { mode: 0o600 });
  fs.chownSync(canary, 4242, 4243);
  const before = fs.statSync(canary);

  const started = Date.now();
  const r = await runScenario(
    async (rt, h, ctx) => {
      const attacker = rt.defaultSpec({
        id: 'attacker',
        rootPath: ctx.attackerRoot,
        args: ['/bin/exchange_loop', '/shared', ctx.canary, 'null', 'zero', 'full', 'tty', 'random'],
      });
      attacker.mounts.push({ destination: '/shared', type: 'bind', source: ctx.shared, options: ['rbind'] });
      const a = await rt.spawnContainer(attacker, { stdout: 'ignore', stderr: 'ignore' });
      const attackerDone = h.exited(a.child);
      await a.start();
      const leaks: string[] = [];
      const refused: Record<string, number> = {};
      let ran = 0;
      try {
        for (let i = 0; i < ctx.creations; i++) {
          // As the CRI builds it: the default /dev tmpfs first, the volume bound over it last.
          const victim = rt.defaultSpec({
            id: `victim-${i}`,
            rootPath: ctx.victimRoot,
            args: ['cat', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'],
          });
          victim.mounts.push({ destination: '/dev', type: 'bind', source: ctx.shared, options: ['rbind'] });
          try {
            const out = await h.run(rt, victim);
            ran++;
            if (out.stdout.includes('CANARY') || out.stderr.includes('CANARY')) leaks.push(out.stdout);
          } catch (e) {
            // Refusing a container whose /dev changed under the runtime is the right answer.
            const why = String((e as Error).message).replace(/victim-\d+/, 'victim-N');
            refused[why] = (refused[why] ?? 0) + 1;
          }
        }
      } finally {
        a.kill();
        await attackerDone;
      }
      return { leaks, refused, ran };
    },
    { attackerRoot, victimRoot, shared, canary, creations: CREATIONS },
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(`${CREATIONS} creations in ${seconds.toFixed(1)} s: ${r.ran} ran`, r.refused);

  const after = fs.statSync(canary);
  expect(r.leaks).toEqual([]);
  expect({ mode: after.mode, uid: after.uid, gid: after.gid }).toEqual({
    mode: before.mode,
    uid: before.uid,
    gid: before.gid,
  });
  expect(fs.readFileSync(canary, 'utf8')).toBe(secret);
  expect(r.ran + Object.values(r.refused).reduce((a, b) => a + b, 0)).toBe(CREATIONS);
});
