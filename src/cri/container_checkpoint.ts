// CheckpointContainer: CRIU dumps the running container and leaves it running (the kubelet's
// forensic checkpoint), and the archive at `location` holds what CRI-O's does, so that
// `checkpointctl show` reads it and CreateContainer (here, or on CRI-O) restores from it.
//
//   <work>/checkpoint/      CRIU images (+ descriptors.json: the stdio fds CRIU was told are external)
//   <work>/dump.log         CRIU's log     <work>/stats-dump   CRIU's statistics
//   <work>/config.dump      who the container was (checkpointctl's ContainerConfig, + nodelet's own)
//   <work>/spec.dump        its spec, OCI-shaped, with the kubelet's annotations
//   <work>/rootfs-diff.tar  the writable layer; deleted.files: what it deleted from the image
//   <work>/container.log    its CRI log so far
import fs from 'node:fs';
import path from 'node:path';
import type { CheckpointContainerRequest__Output } from '../gen/runtime/v1/CheckpointContainerRequest';
import { failedPrecondition, invalidArgument } from '../common/errors';
import { nowNs } from '../common/time';
import {
  CHECKPOINT_DIRECTORY,
  CONFIG_DUMP_FILE,
  CONTAINER_LOG,
  dumpContainer,
  packArchive,
  SPEC_DUMP_FILE,
  STATS_DUMP,
  writeRootfsDiff,
} from '../runtime';
import type { CriContext } from './context';
import { containerState, type ContainerRecord } from './store';
import { checkpointConfigOf, ociSpecOf } from './checkpoint_files';

/** The kubelet passes its own deadline in `timeout` (seconds); without one, CRIU gets this long. */
const DEFAULT_TIMEOUT_S = 240;

export async function checkpointContainer(
  ctx: CriContext,
  req: CheckpointContainerRequest__Output,
): Promise<void> {
  const location = req.location;
  if (!location) throw invalidArgument('Cannot checkpoint a container: location is empty');
  if (!path.isAbsolute(location)) {
    throw invalidArgument(`Cannot checkpoint a container: location '${location}' is not an absolute path`);
  }
  const rec = ctx.containers.get(req.container_id);
  if (containerState(rec) !== 'CONTAINER_RUNNING') {
    throw failedPrecondition(`Cannot checkpoint container '${rec.id}': it is not running`);
  }
  const status = await ctx.monitor.status(rec.id);
  if (status.pid === undefined || status.state !== 'running') {
    throw failedPrecondition(`Cannot checkpoint container '${rec.id}': it is not running`);
  }
  fs.mkdirSync(path.dirname(location), { recursive: true });
  const work = fs.mkdtempSync(path.join(rec.dir, 'checkpoint-'));
  try {
    const timeoutS = Number(req.timeout) > 0 ? Number(req.timeout) : DEFAULT_TIMEOUT_S;
    const imagesDir = path.join(work, CHECKPOINT_DIRECTORY);
    await dumpContainer({
      criu: ctx.criuPath ?? 'criu',
      pid: status.pid,
      spec: rec.spec,
      imagesDir,
      workDir: work,
      timeoutMs: timeoutS * 1000,
    });
    const checkpointedAt = nowNs();
    if (fs.existsSync(path.join(imagesDir, STATS_DUMP))) {
      fs.copyFileSync(path.join(imagesDir, STATS_DUMP), path.join(work, STATS_DUMP));
    }
    const pod = ctx.sandboxes.find(rec.sandboxId);
    writeJson(work, CONFIG_DUMP_FILE, checkpointConfigOf(rec, checkpointedAt));
    writeJson(work, SPEC_DUMP_FILE, ociSpecOf(rec, pod));
    if (rec.spec.root.overlay) await writeRootfsDiff(rec.spec.root.overlay.upperDir, work);
    if (rec.logPath && fs.existsSync(rec.logPath))
      fs.copyFileSync(rec.logPath, path.join(work, CONTAINER_LOG));
    await packArchive(work, location);
    ctx.log.info({ container: rec.id, location }, 'container checkpointed');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function writeJson(dir: string, name: string, value: unknown): void {
  fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2), { mode: 0o600 });
}

export type { ContainerRecord };
