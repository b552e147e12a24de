// CreateContainer from a checkpoint archive, as CRI-O accepts it: `image.image` is the path of an
// archive that CheckpointContainer wrote (here or on CRI-O). The archive is unpacked, its image must
// be present; the container is created in the given pod from the request's config, with what the
// request leaves empty (command, env, working dir) taken from the checkpointed spec. Its writable
// layer starts as rootfs-diff.tar and deleted.files; StartContainer then restores the processes
// with CRIU instead of starting the command (the monitor's restore).
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig__Output } from '../gen/runtime/v1/ContainerConfig';
import { notFound } from '../common/errors';
import type { ImageRecord } from '../image';
import { applyRootfsDiff, CHECKPOINT_DIRECTORY, unpackArchive } from '../runtime';
import { readCheckpointArchive, type CheckpointArchive } from './checkpoint_files';
import type { CriContext } from './context';

export interface UnpackedCheckpoint {
  archive: string;
  /** The unpacked archive; moved into the container dir once that exists. */
  dir: string;
  contents: CheckpointArchive;
  image: ImageRecord;
}

/** An image name that is an absolute path to a file names a checkpoint archive (no reference can). */
export function isCheckpointArchive(imageName: string): boolean {
  if (!path.isAbsolute(imageName)) return false;
  try {
    return fs.statSync(imageName).isFile();
  } catch {
    return false;
  }
}

/** Unpacks the archive beside the containers' dirs and finds its image; removes what it made on failure. */
export async function unpackCheckpoint(ctx: CriContext, archive: string): Promise<UnpackedCheckpoint> {
  const parent = path.join(ctx.stateDir, 'containers');
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, '.restore-'));
  try {
    await unpackArchive(archive, dir);
    const contents = readCheckpointArchive(dir, archive);
    const { rootfsImageRef, rootfsImageName, rootfsImage } = contents.config;
    const candidates = [rootfsImageRef, rootfsImageName, rootfsImage].filter((r): r is string => !!r);
    let image: ImageRecord | undefined;
    for (const ref of candidates) image ??= await ctx.images.resolve(ref);
    if (!image) {
      throw notFound(
        `Cannot restore from '${archive}': its image '${rootfsImageName ?? rootfsImageRef ?? '?'}' is not present: pull it first`,
      );
    }
    return { archive, dir, contents, image };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The request's config, completed from the checkpointed process where the request is silent. */
export function restoredConfig(
  config: ContainerConfig__Output,
  unpacked: UnpackedCheckpoint,
): ContainerConfig__Output {
  const proc = unpacked.contents.spec.process ?? {};
  const fromDump = config.command.length === 0 && config.args.length === 0 && (proc.args?.length ?? 0) > 0;
  const envs =
    config.envs.length > 0
      ? config.envs
      : (proc.env ?? []).flatMap((e) => {
          const eq = e.indexOf('=');
          return eq > 0 ? [{ key: e.slice(0, eq), value: e.slice(eq + 1) }] : [];
        });
  return {
    ...config,
    command: fromDump ? (proc.args ?? []) : config.command,
    args: fromDump ? [] : config.args,
    envs,
    working_dir: config.working_dir || proc.cwd || '',
    image: {
      ...(config.image ?? { annotations: {}, user_specified_image: '', runtime_handler: '' }),
      image: unpacked.image.id,
    },
  } as ContainerConfig__Output;
}

/** Moves the unpacked archive into the container dir and lays its rootfs diff into the upper dir. */
export async function placeCheckpoint(unpacked: UnpackedCheckpoint, containerDir: string): Promise<string> {
  const target = path.join(containerDir, 'restore');
  fs.renameSync(unpacked.dir, target);
  unpacked.dir = target;
  await applyRootfsDiff(target, path.join(containerDir, 'upper'));
  return target;
}

export function imagesDirOf(restoreDir: string): string {
  return path.join(restoreDir, CHECKPOINT_DIRECTORY);
}
