// Directories of removed pods and containers go to the trash: one rename on the call's path, and
// the recursive removal (an overlay upper dir may hold a whole image's worth of files) afterwards, on
// libuv's pool, through runInBackground. containerd's RemoveContainer likewise leaves the
// snapshot's removal to its garbage collector. A daemon killed before the trash was emptied
// empties it at its next start (recover_sweep.ts): nothing in the trash is any record's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { runInBackground } from '../common/background';
import type { Logger } from '../common/log';

/** Where `dir`'s trash is: on the same file system, so the move is a rename. */
export function trashOf(root: string): string {
  return path.join(root, 'trash');
}

const pending = new Set<Promise<unknown>>();

/**
 * Moves `dir` (below `root`) into `root`'s trash and removes it there in the background. When it
 * cannot be moved (already gone, or something mounted on it), it is removed here and now, as before.
 */
export function discardDir(log: Logger, root: string, dir: string): void {
  const trash = trashOf(root);
  const target = path.join(trash, `${path.basename(dir)}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(trash, { recursive: true, mode: 0o700 });
    fs.renameSync(dir, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(dir)) return;
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  }
  const removal = fsp.rm(target, { recursive: true, force: true });
  pending.add(removal);
  const done = () => pending.delete(removal);
  removal.then(done, done);
  runInBackground(log, `remove the discarded directory '${target}'`, removal);
}

/** Waits until every removal started so far has ended (a stopping daemon, tests). */
export async function trashEmptied(): Promise<void> {
  await Promise.allSettled([...pending]);
}

/** Removes whatever a killed daemon left in `root`'s trash; returns what it removed. */
export function emptyTrash(root: string): string[] {
  const trash = trashOf(root);
  let names: string[];
  try {
    names = fs.readdirSync(trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  for (const name of names) fs.rmSync(path.join(trash, name), { recursive: true, force: true });
  return names.map((name) => path.join(trash, name));
}
