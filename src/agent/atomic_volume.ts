// configMap, secret, projected and downwardAPI volumes are written as the kubelet's AtomicWriter
// writes them, because applications depend on that layout: the files live in a timestamped
// directory `..<time>`, the symlink `..data` points at it, and each top-level name is a symlink
// through `..data`. A new payload goes to a new directory and `..data` is swapped with a rename,
// so a reader sees the old set or the new one, never a mix; watchers of `..data` (config
// reloaders) see one change. A payload equal to what is there writes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../common/errors';
import type { VolumeFile } from './manifest';

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** Refuses paths that would leave the volume or collide with the writer's own names. */
function checkPath(volume: string, p: string): void {
  const parts = p.split('/');
  if (!p || path.isAbsolute(p) || parts.includes('..') || parts.includes('') || p.startsWith('..')) {
    throw invalidArgument(`Cannot write volume '${volume}': path '${p}' leaves the volume or is reserved`);
  }
}

/** The payload now visible through `..data`, or undefined when there is none yet. */
function currentPayload(dir: string): Map<string, { content: Buffer; mode: number }> | undefined {
  let target: string;
  try {
    target = fs.readlinkSync(path.join(dir, DATA));
  } catch {
    return undefined;
  }
  // Only a payload directory of ours beside the link counts; anything else is rewritten.
  if (!target.startsWith('..') || target.includes('/')) return undefined;
  const root = path.join(dir, target);
  const files = new Map<string, { content: Buffer; mode: number }>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else {
        const file = path.join(root, child);
        files.set(child, { content: fs.readFileSync(file), mode: fs.statSync(file).mode & 0o7777 });
      }
    }
  };
  try {
    walk('');
  } catch {
    return undefined;
  }
  return files;
}

function samePayload(
  files: VolumeFile[],
  current: Map<string, { content: Buffer; mode: number }>,
  addedMode: number,
): boolean {
  return (
    files.length === current.size &&
    files.every((f) => {
      const now = current.get(f.path);
      return (
        now !== undefined && now.mode === ((f.mode | addedMode) & 0o7777) && now.content.equals(f.content)
      );
    })
  );
}

/** `..2026_11_23_04_50_00.<random>`, as the kubelet names its payload directories. */
function newPayloadDir(dir: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-T:]/g, '_')
    .replace(/\.\d+Z$/, '');
  return fs.mkdtempSync(path.join(dir, `..${stamp}.`));
}

export interface AtomicWriteOptions {
  /**
   * Run on the whole volume once a new payload is written, before it becomes visible (the kubelet's
   * setPerms: the fsGroup ownership change, fs_group.ts).
   */
  setPerms?: () => void;
  /** Mode bits setPerms adds to every file, so a payload it touched still counts as unchanged. */
  addedMode?: number;
}

/**
 * Makes `dir` show exactly `files`. Returns whether anything changed. A failure before the swap
 * leaves the old payload in place and removes the half-written new one.
 */
export function writeAtomicVolume(
  volume: string,
  dir: string,
  files: VolumeFile[],
  options: AtomicWriteOptions = {},
): boolean {
  for (const f of files) checkPath(volume, f.path);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const visible = new Set(files.map((f) => f.path.split('/')[0]));
  const before = currentPayload(dir);
  if (before && samePayload(files, before, options.addedMode ?? 0)) {
    // Nothing to write, but a crash after an earlier swap may have left links or payloads to tidy.
    tidy(dir, visible);
    return false;
  }

  const payload = newPayloadDir(dir);
  try {
    fs.chmodSync(payload, 0o755);
    for (const f of files) {
      const file = path.join(payload, f.path);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
      fs.writeFileSync(file, f.content, { mode: f.mode });
      fs.chmodSync(file, f.mode & 0o7777); // the umask must not narrow what the pod asked for
    }
    options.setPerms?.();
    fs.rmSync(path.join(dir, DATA_TMP), { force: true });
    fs.symlinkSync(path.basename(payload), path.join(dir, DATA_TMP));
    fs.renameSync(path.join(dir, DATA_TMP), path.join(dir, DATA));
  } catch (err) {
    fs.rmSync(payload, { recursive: true, force: true });
    fs.rmSync(path.join(dir, DATA_TMP), { force: true });
    throw err;
  }
  tidy(dir, visible);
  return true;
}

/**
 * One link per visible name; links through ..data to names that left, and payloads other than the
 * current one, go. What else is in the directory (a subPath the node made) is left alone, except
 * a plain file or directory in the place of a visible name (an older layout), which the link
 * replaces.
 */
function tidy(dir: string, visible: Set<string>): void {
  const current = fs.readlinkSync(path.join(dir, DATA));
  for (const name of fs.readdirSync(dir)) {
    const entry = path.join(dir, name);
    if (name === DATA || name === current) continue;
    if (name.startsWith('..')) {
      fs.rmSync(entry, { recursive: true, force: true });
      continue;
    }
    const link = fs.lstatSync(entry).isSymbolicLink() ? fs.readlinkSync(entry) : undefined;
    const ours = link !== undefined && link.startsWith(`${DATA}/`);
    if (visible.has(name) ? !ours : ours) fs.rmSync(entry, { recursive: true, force: true });
  }
  for (const name of visible) {
    const link = path.join(dir, name);
    if (!fs.lstatSync(link, { throwIfNoEntry: false })) fs.symlinkSync(path.join(DATA, name), link);
  }
}
