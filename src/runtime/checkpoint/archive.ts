// The checkpoint archive in CRI-O's layout (the one checkpointctl reads, names from its metadata
// package): checkpoint/ (CRIU images), config.dump, spec.dump, rootfs-diff.tar, deleted.files,
// dump.log, stats-dump, container.log. An uncompressed tar, as CRI-O writes it. GNU tar does the
// packing (asynchronously, in its own process); the walk of the upper dir finds overlayfs
// whiteouts, which are not packed but listed in deleted.files.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { internal } from '../../common/errors';
import { makeSpecialFile } from '../sys/fsx';

export const CHECKPOINT_DIRECTORY = 'checkpoint';
export const CONFIG_DUMP_FILE = 'config.dump';
export const SPEC_DUMP_FILE = 'spec.dump';
export const ROOTFS_DIFF_TAR = 'rootfs-diff.tar';
export const DELETED_FILES_FILE = 'deleted.files';
export const STATS_DUMP = 'stats-dump';
export const DUMP_LOG = 'dump.log';
export const CONTAINER_LOG = 'container.log';

/** Packs the writable layer into dir/rootfs-diff.tar and its deletions into dir/deleted.files. */
export async function writeRootfsDiff(upperDir: string, dir: string): Promise<void> {
  const kept: string[] = [];
  const deleted: string[] = [];
  walk(upperDir, '', kept, deleted);
  const list = path.join(dir, '.rootfs-diff.list');
  fs.writeFileSync(list, kept.map((p) => `${p}\0`).join(''));
  try {
    await runTar([
      '--create',
      '--file',
      path.join(dir, ROOTFS_DIFF_TAR),
      '--directory',
      upperDir,
      '--numeric-owner',
      '--xattrs',
      '--no-recursion',
      '--null',
      '--files-from',
      list,
    ]);
  } finally {
    fs.rmSync(list, { force: true });
  }
  if (deleted.length > 0) fs.writeFileSync(path.join(dir, DELETED_FILES_FILE), JSON.stringify(deleted));
}

/** Applies rootfs-diff.tar and deleted.files of an unpacked archive onto a fresh upper dir. */
export async function applyRootfsDiff(archiveDir: string, upperDir: string): Promise<void> {
  const tar = path.join(archiveDir, ROOTFS_DIFF_TAR);
  if (fs.existsSync(tar)) {
    await runTar([
      '--extract',
      '--file',
      tar,
      '--directory',
      upperDir,
      '--numeric-owner',
      '--same-permissions',
      '--xattrs',
      '--no-overwrite-dir',
    ]);
  }
  const deletedFile = path.join(archiveDir, DELETED_FILES_FILE);
  if (!fs.existsSync(deletedFile)) return;
  const deleted: unknown = JSON.parse(fs.readFileSync(deletedFile, 'utf8'));
  if (!Array.isArray(deleted) || !deleted.every((p) => typeof p === 'string')) {
    throw internal(`Cannot apply ${DELETED_FILES_FILE}: not a list of paths`);
  }
  for (const rel of deleted as string[]) {
    const target = path.join(upperDir, path.normalize(`/${rel}`));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { recursive: true, force: true });
    makeSpecialFile(target, 'char', 0, 0); // an overlayfs whiteout
  }
}

/** Packs a directory into an archive at `location`, written beside it and renamed into place. */
export async function packArchive(dir: string, location: string): Promise<void> {
  const partial = `${location}.partial`;
  try {
    await runTar(['--create', '--file', partial, '--directory', dir, '.']);
    fs.renameSync(partial, location);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/** Unpacks an archive into dir; refuses one that is not a checkpoint archive. */
export async function unpackArchive(archive: string, dir: string): Promise<void> {
  await runTar(['--extract', '--file', archive, '--directory', dir, '--no-same-owner']);
}

function walk(root: string, rel: string, kept: string[], deleted: string[]): void {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isCharacterDevice() && fs.lstatSync(path.join(root, child)).rdev === 0) {
      deleted.push(child);
      continue;
    }
    kept.push(child);
    if (entry.isDirectory()) walk(root, child, kept, deleted);
  }
}

function runTar(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    child.once('error', (e) => reject(internal(`Cannot run tar: ${e.message}`, e)));
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(internal(`tar ${args[0]} failed (status ${code}): ${err.trim()}`)),
    );
  });
}
