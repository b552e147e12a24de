// Pod volumes on the node, laid out as the kubelet does under <root-dir>/pods/<uid>/volumes/<plugin>/<name>:
// emptyDir (a directory, or a tmpfs for medium Memory), hostPath (with its type checks), downwardAPI,
// and in connected mode configMap, secret and projected (files read from the API, and read again
// every sync period; secrets and tokens on a tmpfs, never on disk). The file volumes have the
// kubelet's atomic layout (atomic_volume.ts). Each container's volumeMounts become CRI mounts.
import fs from 'node:fs';
import path from 'node:path';
import type { Mount } from '../gen/runtime/v1/Mount';
import { failedPrecondition, invalidArgument } from '../common/errors';
import { fieldRefValue, PodRuntimeFacts, resourceFieldRefValue } from './env';
import type { VolumeFile } from './manifest';
import type { Container, Pod, Volume } from './pod_spec';
import { bytes } from './quantity';
import { writeAtomicVolume, type AtomicWriteOptions } from './atomic_volume';
import { fsGroupFileMode, podFsGroup, setVolumeOwnership } from './fs_group';
import { ContainerConfigError } from './container_config_error';
import { subPathTarget } from './subpath';
import { settleSubPath } from './subpath_expr';

/** The kernel operations volumes need, behind an interface so unit tests need no root. */
export interface VolumeMounter {
  mountTmpfs(target: string, sizeBytes?: number): void;
  unmount(target: string): void;
  isMountPoint(target: string): boolean;
  /** Every mount point at or below `dir`, deepest first. */
  mountPointsUnder(dir: string): string[];
  /**
   * Binds `subPath` of the volume at `root` to `target`, resolved beneath `root` so no link leads
   * out of it (subpath.ts); missing directories are made with `mode`.
   */
  bindSubPath(root: string, subPath: string, target: string, mode: number): void;
}

export interface PreparedVolume {
  name: string;
  hostPath: string;
  /**
   * Files the node writes (configMap, secret, downwardAPI, projected): always mounted read-only,
   * as the kubelet does since CVE-2017-1002102, so a container cannot plant links the node follows.
   */
  nodeWritten?: boolean;
  /** An image volume: the image's reference (the runtime mounts the pulled image; hostPath is ''). */
  image?: string;
}

const PLUGIN_DIR = {
  emptyDir: 'kubernetes.io~empty-dir',
  downwardAPI: 'kubernetes.io~downward-api',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  projected: 'kubernetes.io~projected',
} as const;

export function podDir(rootDir: string, uid: string): string {
  return path.join(rootDir, 'pods', uid);
}

/**
 * The kubelet's mode for the pods directory, a pod's directory and its volumes directory: 0750.
 * Secrets, tokens and memory-backed emptyDirs below are 0644 files on 1777 tmpfs roots (as with
 * the kubelet), so these modes are what keeps the node's other users out.
 */
const POD_DIR_MODE = 0o750;

/** Makes `dir` with POD_DIR_MODE, or narrows it to that if it exists (made by an older agent). */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: POD_DIR_MODE });
  fs.chmodSync(dir, POD_DIR_MODE);
}

function checkHostPath(v: Volume & { hostPath: NonNullable<Volume['hostPath']> }): string {
  const { path: p, type = '' } = v.hostPath;
  const fail = (what: string) => failedPrecondition(`Cannot use hostPath volume '${v.name}': '${p}' ${what}`);
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  switch (type) {
    case '':
      return p;
    case 'DirectoryOrCreate':
      if (!stat) fs.mkdirSync(p, { recursive: true, mode: 0o755 });
      else if (!stat.isDirectory()) throw fail('is not a directory');
      return p;
    case 'FileOrCreate':
      if (!stat) {
        fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
        fs.writeFileSync(p, '', { mode: 0o644, flag: 'a' });
      } else if (!stat.isFile()) throw fail('is not a file');
      return p;
    default: {
      if (!stat) throw fail('does not exist');
      const ok = {
        Directory: stat.isDirectory(),
        File: stat.isFile(),
        Socket: stat.isSocket(),
        CharDevice: stat.isCharacterDevice(),
        BlockDevice: stat.isBlockDevice(),
      }[type];
      if (!ok) throw fail(`is not of type ${type}`);
      return p;
    }
  }
}

/** A volume whose files come from the API server: connected mode reads them. */
const isApiVolume = (v: Volume) => !!(v.configMap || v.secret || v.projected);

/** Where the node writes a file volume's payload (downwardAPI or an API volume). */
function fileVolumeDir(dir: string, v: Volume): string {
  const plugin = v.downwardAPI
    ? PLUGIN_DIR.downwardAPI
    : v.secret
      ? PLUGIN_DIR.secret
      : v.projected
        ? PLUGIN_DIR.projected
        : PLUGIN_DIR.configMap;
  return path.join(dir, 'volumes', plugin, v.name);
}

/** The fsGroup change on a node-written volume: made on each new payload, before it is visible. */
function fsGroupOnWrite(pod: Pod, dir: string): AtomicWriteOptions {
  const fsGroup = podFsGroup(pod);
  if (fsGroup === undefined) return {};
  return {
    setPerms: () => setVolumeOwnership(dir, fsGroup, { readOnly: true }),
    addedMode: fsGroupFileMode(true),
  };
}

function writeDownwardApi(pod: Pod, v: Volume, dir: string, facts: PodRuntimeFacts): boolean {
  const container = pod.spec.containers[0];
  const files = (v.downwardAPI?.items ?? []).map((item) => {
    let value: string;
    if (item.fieldRef) value = fieldRefValue(pod, item.fieldRef.fieldPath, facts);
    else if (item.resourceFieldRef)
      value = resourceFieldRefValue(pod, item.resourceFieldRef, container, facts);
    else
      throw invalidArgument(`Cannot write downwardAPI volume '${v.name}': item '${item.path}' has no source`);
    return {
      path: item.path,
      content: Buffer.from(value),
      mode: item.mode ?? v.downwardAPI?.defaultMode ?? 0o644,
    };
  });
  return writeAtomicVolume(v.name, dir, files, fsGroupOnWrite(pod, dir));
}

/** The API files of a volume with the values of their resourceFieldRef items (projected downwardAPI) filled in. */
function withResourceValues(pod: Pod, files: VolumeFile[], facts: PodRuntimeFacts): VolumeFile[] {
  return files.map((f) =>
    f.resourceFieldRef
      ? {
          path: f.path,
          mode: f.mode,
          content: Buffer.from(resourceFieldRefValue(pod, f.resourceFieldRef, pod.spec.containers[0], facts)),
        }
      : f,
  );
}

/**
 * Writes the pod's downwardAPI volumes again from its current metadata (labels and annotations
 * change on a running pod); only prepared volumes whose content changed are touched. Returns
 * the names of those.
 */
export function refreshDownwardApiVolumes(pod: Pod, dir: string, facts: PodRuntimeFacts): string[] {
  const changed: string[] = [];
  for (const v of pod.spec.volumes ?? []) {
    if (!v.downwardAPI) continue;
    const target = fileVolumeDir(dir, v);
    if (fs.existsSync(target) && writeDownwardApi(pod, v, target, facts)) changed.push(v.name);
  }
  return changed;
}

/**
 * Writes the newly read files of the pod's configMap, secret and projected volumes; only volumes whose
 * content changed are touched (a new payload swapped in atomically). Returns the names of those.
 * Containers see the change through their bind mounts of the volume directory (not through subPath).
 */
export function refreshApiVolumes(
  pod: Pod,
  dir: string,
  apiVolumes: Record<string, VolumeFile[]>,
  mounter: VolumeMounter,
  facts: PodRuntimeFacts,
): string[] {
  const changed: string[] = [];
  for (const v of pod.spec.volumes ?? []) {
    if (!isApiVolume(v) || !apiVolumes[v.name]) continue;
    const target = fileVolumeDir(dir, v);
    // A pod whose volumes were never prepared (no sandbox yet) gets them when it starts; a secret
    // whose tmpfs is not there (after a reboot) waits for that too, rather than land on disk.
    if (!fs.existsSync(target)) continue;
    if ((v.secret || v.projected) && !mounter.isMountPoint(target)) continue;
    const files = withResourceValues(pod, apiVolumes[v.name], facts);
    if (writeAtomicVolume(v.name, target, files, fsGroupOnWrite(pod, target))) changed.push(v.name);
  }
  return changed;
}

/** Makes every volume of the pod exist on the node; safe to repeat (after an agent restart). */
export function prepareVolumes(
  pod: Pod,
  dir: string,
  facts: PodRuntimeFacts,
  mounter: VolumeMounter,
  apiVolumes: Record<string, VolumeFile[]> = {},
): Map<string, PreparedVolume> {
  const prepared = new Map<string, PreparedVolume>();
  makePrivateDir(dir);
  makePrivateDir(path.join(dir, 'volumes'));
  for (const v of pod.spec.volumes ?? []) {
    let hostPath: string;
    if (v.emptyDir) {
      hostPath = path.join(dir, 'volumes', PLUGIN_DIR.emptyDir, v.name);
      // Set up once, as the kubelet's ready marker does: a repeat (agent restart) must not chmod
      // what the containers wrote since.
      let fresh = !fs.existsSync(hostPath);
      fs.mkdirSync(hostPath, { recursive: true, mode: 0o777 });
      if (v.emptyDir.medium === 'Memory' && !mounter.isMountPoint(hostPath)) {
        mounter.mountTmpfs(
          hostPath,
          v.emptyDir.sizeLimit !== undefined ? bytes(v.emptyDir.sizeLimit) : undefined,
        );
        fresh = true;
      }
      if (fresh) {
        fs.chmodSync(hostPath, 0o777); // every user of the pod may write, as with the kubelet
        setVolumeOwnership(hostPath, podFsGroup(pod), { readOnly: false });
      }
    } else if (v.hostPath) {
      hostPath = checkHostPath({ ...v, hostPath: v.hostPath });
    } else if (v.image) {
      prepared.set(v.name, { name: v.name, hostPath: '', image: v.image.reference });
      continue;
    } else if (v.downwardAPI) {
      hostPath = fileVolumeDir(dir, v);
      writeDownwardApi(pod, v, hostPath, facts);
    } else if (isApiVolume(v) && apiVolumes[v.name]) {
      hostPath = fileVolumeDir(dir, v);
      fs.mkdirSync(hostPath, { recursive: true, mode: 0o755 });
      // Secrets and projected volumes (tokens) live on a tmpfs, never on the node's disk.
      if ((v.secret || v.projected) && !mounter.isMountPoint(hostPath)) mounter.mountTmpfs(hostPath);
      const files = withResourceValues(pod, apiVolumes[v.name], facts);
      writeAtomicVolume(v.name, hostPath, files, fsGroupOnWrite(pod, hostPath));
    } else {
      throw invalidArgument(
        `Cannot prepare volume '${v.name}': its type is not supported${isApiVolume(v) ? ' without the API server' : ''}`,
      );
    }
    const nodeWritten = !!v.downwardAPI || isApiVolume(v);
    prepared.set(v.name, { name: v.name, hostPath, ...(nodeWritten ? { nodeWritten } : {}) });
  }
  return prepared;
}

/**
 * Undoes prepareVolumes: unmounts everything mounted below the pod's directory (memory-backed
 * emptyDirs, secrets, subPath binds), then deletes it. Never deletes through a mount that stayed.
 */
export function removePodDir(dir: string, mounter: VolumeMounter): void {
  for (const target of mounter.mountPointsUnder(dir)) {
    try {
      mounter.unmount(target);
    } catch {
      // checked below
    }
  }
  const left = mounter.mountPointsUnder(dir);
  if (left.length) {
    throw failedPrecondition(`Cannot remove pod directory '${dir}': '${left[0]}' is still mounted`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

const PROPAGATION = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
} as const;

/** Why a subPath could not be bound, in words that tell nothing of the host's files. */
function subPathProblem(err: unknown): string {
  if (err instanceof ContainerConfigError) return err.message;
  const code = (err as { code?: string }).code;
  if (code === 'EXDEV' || code === 'ELOOP') return 'it leads out of the volume';
  if (code === 'ENOTDIR') return 'a part of it is not a directory';
  if (code === 'ENOENT') return 'a link in it leads nowhere';
  return 'the node could not bind it';
}

export interface MountContext {
  /** The pod's directory, under which subPaths are bound. */
  podDir: string;
  mounter: VolumeMounter;
  /** The container's environment, which subPathExpr expands from. */
  env?: ReadonlyMap<string, string>;
  /** Image volumes' pulled image ids, by volume name (the reference when absent). */
  imageRefs?: ReadonlyMap<string, string>;
}

/**
 * The CRI mounts of a container's volumeMounts. A subPath is resolved by the node beneath its
 * volume and bound to a path the node owns (the runtime never follows the volume's links); one that
 * leaves the volume is a ContainerConfigError naming it, and changes nothing on the host.
 */
export function containerMounts(
  c: Container,
  volumes: Map<string, PreparedVolume>,
  ctx: MountContext,
): Mount[] {
  return (c.volumeMounts ?? []).map((m, index) => {
    const v = volumes.get(m.name);
    if (!v) throw invalidArgument(`Cannot mount volume '${m.name}' in container '${c.name}': no such volume`);
    if (v.image !== undefined) {
      // Read-only always; a subPath is resolved by the runtime inside the image (image_sub_path).
      return {
        container_path: m.mountPath,
        host_path: '',
        image: { image: ctx.imageRefs?.get(m.name) ?? v.image },
        image_sub_path: settleSubPath(m, ctx.env ?? new Map()),
        readonly: true,
        propagation: PROPAGATION[m.mountPropagation ?? 'None'],
      };
    }
    let hostPath = v.hostPath;
    const subPath = settleSubPath(m, ctx.env ?? new Map());
    if (subPath) {
      const target = subPathTarget(ctx.podDir, m.name, c.name, index);
      try {
        // New directories get the volume root's mode, as with the kubelet (0777 for an emptyDir).
        const mode = fs.statSync(v.hostPath).mode & 0o7777;
        ctx.mounter.bindSubPath(v.hostPath, subPath, target, mode);
      } catch (err) {
        throw new ContainerConfigError(
          `failed to prepare subPath "${subPath}" for volumeMount "${m.name}" of container "${c.name}": ${subPathProblem(err)}`,
          { cause: err },
        );
      }
      hostPath = target;
    }
    return {
      container_path: m.mountPath,
      host_path: hostPath,
      readonly: (m.readOnly ?? false) || v.nodeWritten === true,
      propagation: PROPAGATION[m.mountPropagation ?? 'None'],
    };
  });
}
