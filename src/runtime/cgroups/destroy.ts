// Removing a cgroup and its children from every tree. Without force it kills nothing and refuses
// while processes remain; with force it kills them first: cgroup.kill where the cgroup2 tree has
// it, else freeze (so nothing forks in between), SIGKILL every pid, thaw.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { failedPrecondition } from '../../common/errors';
import { childCgroups, controlError, readOptional, readPids, writeControl } from './files';
import { dirIn, treesOf } from './trees';
import type { CgroupSystem } from './types';

export interface DestroyOptions {
  /** Kill the processes still in the cgroup instead of refusing. */
  force?: boolean;
  /** How long to wait for killed processes to leave and for rmdir to succeed (default 10 s). */
  timeoutMs?: number;
}

const POLL_MS = 10;

export async function destroyCgroup(
  system: CgroupSystem,
  cgroup: string,
  opts: DestroyOptions,
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const dirs = treesOf(system).flatMap((t) => deepestFirst(dirIn(t.mount, cgroup)));
  if (dirs.length === 0) return; // already gone: removal is idempotent, as the CRI wants
  const pids = () => [...new Set(dirs.flatMap(readPids))];
  if (pids().length > 0) {
    if (!opts.force) {
      const left = pids();
      throw failedPrecondition(
        `Cannot remove cgroup '${cgroup}': ${left.length} processes remain (${left.slice(0, 10).join(', ')})`,
      );
    }
    await killAll(system, cgroup, pids, deadline);
  }
  for (const dir of dirs) await rmdirWhenFree(dir, cgroup, deadline);
}

async function killAll(system: CgroupSystem, cgroup: string, pids: () => number[], deadline: number) {
  const v2dir = system.unified === undefined ? undefined : dirIn(system.unified, cgroup);
  if (v2dir !== undefined && fs.existsSync(path.join(v2dir, 'cgroup.kill'))) {
    writeControl(v2dir, 'cgroup.kill', '1', cgroup);
  }
  const freezer = system.v1.freezer === undefined ? undefined : dirIn(system.v1.freezer, cgroup);
  const frozen = freezer !== undefined && (await freeze(freezer, cgroup, deadline));
  try {
    for (const pid of pids()) kill(pid);
  } finally {
    // A frozen task with SIGKILL pending dies only once thawed.
    if (frozen) writeControl(freezer, 'freezer.state', 'THAWED', cgroup);
  }
  while (pids().length > 0) {
    if (Date.now() > deadline) {
      throw failedPrecondition(
        `Cannot remove cgroup '${cgroup}': processes ${pids().join(', ')} did not exit`,
      );
    }
    await sleep(POLL_MS);
    for (const pid of pids()) kill(pid);
  }
}

async function freeze(dir: string, cgroup: string, deadline: number): Promise<boolean> {
  const state = path.join(dir, 'freezer.state');
  if (!fs.existsSync(state)) return false;
  writeControl(dir, 'freezer.state', 'FROZEN', cgroup);
  while (readOptional(state) !== 'FROZEN') {
    if (Date.now() > deadline) return true; // kill anyway; the kill loop retries what slipped through
    await sleep(POLL_MS);
  }
  return true;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** The directory and every child cgroup below it, children before parents; none when it is absent. */
function deepestFirst(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return [...childCgroups(dir).flatMap((c) => deepestFirst(path.join(dir, c))), dir];
}

/** An exited task can keep a cgroup busy until its parent reaps it: retry EBUSY until the deadline. */
async function rmdirWhenFree(dir: string, cgroup: string, deadline: number): Promise<void> {
  while (true) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline)
        throw controlError(err, `remove cgroup '${cgroup}' at '${dir}'`);
      await sleep(POLL_MS);
    }
  }
}
