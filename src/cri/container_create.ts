// CreateContainer: the root is built and the init waits, but the workload does not run until
// StartContainer. The name is reserved first; every later step registers its undo.
import fs from 'node:fs';
import path from 'node:path';
import type { CreateContainerRequest__Output } from '../gen/runtime/v1/CreateContainerRequest';
import { withCleanup } from '../common/cleanup';
import { crashPoint } from '../common/crash_point';
import { explainDiskFull } from '../common/disk_full';
import { failedPrecondition, invalidArgument, notFound, unimplemented } from '../common/errors';
import { nowNs } from '../common/time';
import { containerCgroupPath, setOomScoreAdj } from '../runtime/cgroups';
import { resolveUser } from '../runtime/security';
import { requestedDevices, resolveCdiDevices, type CdiRegistry } from './cdi';
import { containerDir, type CriContext } from './context';
import { buildContainerSpec, userRequestOf } from './container_spec';
import { newId } from './ids';
import { imageEtcFiles } from './image_rootfs';
import { mountImageVolumes, resolveImageVolumes } from './image_volumes';
import {
  CONTAINER_RECORD_VERSION,
  containerState,
  sandboxState,
  type ContainerRecord,
  type SandboxRecord,
} from './store';
import type { ContainerConfig__Output } from '../gen/runtime/v1/ContainerConfig';
import {
  imagesDirOf,
  isCheckpointArchive,
  placeCheckpoint,
  restoredConfig,
  unpackCheckpoint,
  type UnpackedCheckpoint,
} from './container_restore';

export async function createContainer(ctx: CriContext, req: CreateContainerRequest__Output): Promise<string> {
  const requested = req.config;
  if (!requested?.metadata?.name)
    throw invalidArgument('Cannot create the container: config.metadata.name is empty');
  const pod = ctx.sandboxes.get(req.pod_sandbox_id);
  if (sandboxState(pod) !== 'SANDBOX_READY') {
    throw failedPrecondition(`Cannot create a container in pod sandbox '${pod.id}': it is not ready`);
  }
  const requestedImage = requested.image?.image ?? '';
  if (!isCheckpointArchive(requestedImage)) return create(ctx, req, requested, pod);
  const unpacked = await unpackCheckpoint(ctx, requestedImage);
  const unpackedAt = unpacked.dir;
  try {
    return await create(ctx, req, restoredConfig(requested, unpacked), pod, unpacked);
  } finally {
    fs.rmSync(unpackedAt, { recursive: true, force: true }); // nothing left there once it moved in
  }
}

async function create(
  ctx: CriContext,
  req: CreateContainerRequest__Output,
  config: ContainerConfig__Output,
  pod: SandboxRecord,
  restore?: UnpackedCheckpoint,
): Promise<string> {
  if (!config.metadata) throw invalidArgument('Cannot create the container: config.metadata is empty');
  const imageName = config.image?.image ?? '';
  const image = await ctx.images.resolve(imageName);
  if (!image) throw notFound(`Cannot create the container: image '${imageName}' is not present`);
  const imageVolumes = await resolveImageVolumes(ctx.images, config.mounts);
  // CRIU restores the mounts at StartContainer, long after the host's views are detached.
  if (restore && imageVolumes.length)
    throw unimplemented('Cannot restore a checkpoint into a container with image volumes: not supported yet');
  // CDI devices are resolved before the name is taken: an unknown one leaves nothing behind.
  const cdiRequested = requestedDevices(config.CDI_devices, config.annotations);
  const cdi = cdiRequested.length
    ? resolveCdiDevices((await ctx.cdi?.load()) ?? NO_CDI_DEVICES, cdiRequested)
    : [];

  const podMeta = pod.config.metadata!;
  const meta = { name: config.metadata.name, attempt: config.metadata.attempt };
  const name = [meta.name, podMeta.name, podMeta.namespace, podMeta.uid, meta.attempt].join('_');
  const id = newId();
  ctx.names.reserve(name, id);
  return withCleanup(ctx.log, async (cleanup) => {
    cleanup.defer('release the container name', () => ctx.names.release(name));
    const dir = containerDir(ctx, id);
    for (const sub of ['upper', 'work', 'rootfs']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    cleanup.defer('remove the container dir', () => fs.rmSync(dir, { recursive: true, force: true }));
    const restoreDir = restore ? await placeCheckpoint(restore, dir) : undefined;

    const lowerDirs = ctx.images.lowerDirs(image);
    const security = config.linux?.security_context;
    const user = resolveUser(imageEtcFiles(ctx.host, image.id, lowerDirs), userRequestOf(config, image));

    const volumes = mountImageVolumes(ctx.host, dir, imageVolumes);
    cleanup.defer('detach the image volumes', () => volumes.release());
    const targetId = security?.namespace_options?.target_id;
    const target = targetId ? ctx.containers.find(targetId) : undefined;
    const targetPid = target ? (await ctx.monitor.status(target.id).catch(() => undefined))?.pid : undefined;
    const cgroupsPath = containerCgroupPath(pod.cgroupParent, id);
    const spec = buildContainerSpec(
      {
        id,
        config,
        pod,
        image,
        lowerDirs,
        dir,
        user,
        cgroupsPath,
        targetPid,
        cdi,
        imageVolumeSources: volumes.sources,
      },
      ctx.host,
    );

    const logPath =
      pod.config.log_directory && config.log_path ? path.join(pod.config.log_directory, config.log_path) : '';
    if (logPath) fs.mkdirSync(path.dirname(logPath), { recursive: true });
    // Without a log path the output still goes somewhere bounded by the container's life: its dir.
    const monitorLog = logPath || path.join(dir, 'output.log');

    ctx.cgroups.create(cgroupsPath, spec.linux.resources);
    cleanup.defer('remove the container cgroup', () => ctx.cgroups.destroy(cgroupsPath, { force: true }));
    crashPoint('create-container/after-root');

    const info = await ctx.monitor.create({
      id,
      spec,
      logPath: monitorLog,
      stdin: config.stdin,
      stdinOnce: config.stdin_once,
      tty: config.tty,
      restore: restoreDir
        ? { criu: ctx.criuPath ?? 'criu', imagesDir: imagesDirOf(restoreDir), workDir: restoreDir }
        : undefined,
    });
    cleanup.defer('remove the container from the monitor', () => ctx.monitor.remove(id));
    // The init holds its binds of the image volumes now: their host overlays are no longer needed.
    volumes.release();
    crashPoint('create-container/after-monitor-create');
    // Older monitors do not say how the init started: then nothing is recorded.
    if (info.initStart) ctx.metrics?.initStart.observe(info.initStart.source, info.initStart.seconds);
    if (info.pid !== undefined) {
      ctx.cgroups.join(cgroupsPath, info.pid);
      const oom = setOomScoreAdj(info.pid, spec.process.oomScoreAdj ?? 0);
      if (oom.clamped) {
        ctx.log.warn(
          { container: id, requested: spec.process.oomScoreAdj, applied: oom.applied },
          "oom_score_adj clamped: it cannot go below the daemon's floor without CAP_SYS_RESOURCE",
        );
      }
    }

    const record: ContainerRecord = {
      version: CONTAINER_RECORD_VERSION,
      id,
      sandboxId: pod.id,
      name,
      metadata: meta,
      labels: config.labels,
      annotations: config.annotations,
      image: {
        spec: imageName,
        userSpecified: restore?.archive ?? (config.image?.user_specified_image || imageName),
        id: image.id,
        ref: image.repoDigests[0] ?? image.id,
      },
      createdAt: nowNs().toString(),
      logPath,
      tty: config.tty,
      stdin: config.stdin,
      stdinOnce: config.stdin_once,
      mounts: config.mounts,
      resources: config.linux?.resources ?? undefined,
      stopSignal: stopSignalOf(config.stop_signal, image.config.StopSignal),
      dir,
      cgroupsPath,
      pid: info.pid,
      spec,
      restoreFrom: restoreDir,
      imageVolumes: imageVolumes.length
        ? imageVolumes.map((v) => ({ image: v.image, id: v.id, lowerDirs: v.lowerDirs }))
        : undefined,
    };
    await ctx.containers.create(record);
    crashPoint('create-container/after-record');
    ctx.stats.track(id, { cgroup: cgroupsPath });
    ctx.log.info({ container: id, pod: pod.id, state: containerState(record) }, 'container created');
    return id;
  }).catch(
    explainDiskFull(`create container '${meta.name}' in pod sandbox '${pod.id}'`, {
      'state directory': ctx.stateDir,
      'log directory': pod.config.log_directory || undefined,
    }),
  );
}

const NO_CDI_DEVICES: CdiRegistry = { devices: new Map(), errors: new Map() };

/** The CRI's stop signal, else the image's, else SIGTERM. */
function stopSignalOf(cri: string | undefined, image: string | undefined): string {
  if (cri && cri !== 'RUNTIME_DEFAULT') return cri;
  if (image) return image.startsWith('SIG') || /^\d+$/.test(image) ? image : `SIG${image}`;
  return 'SIGTERM';
}
