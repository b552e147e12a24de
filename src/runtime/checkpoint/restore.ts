// `criu restore` of a checkpointed container into a new pod. CRIU rebuilds the process tree, its
// PID and mount namespaces from the images; what dump.ts marked external is handed back:
//   - root: the new container's overlay (image layers + rootfs-diff.tar in its upper dir), mounted
//     on the host at spec.root.path only while CRIU runs (--root); the restored mount namespace
//     keeps its own copy, and the host's is detached afterwards
//   - the pod's network namespace (--inherit-fd fd[N]:extNetNs), its IPC and UTS (--join-ns)
//   - the host bind mounts, by destination, from the new spec's sources (--external mnt[dest]:source)
//   - stdio, by fd number, from the new container's FIFOs (--inherit-fd fd[N]:file[...])
// --restore-detached: CRIU exits once the tree runs, and the tree is orphaned to the nearest
// subreaper above the caller (the monitor's keeper), which reaps it and records its exit.
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../common/errors';
import type { ContainerSpec } from '../spec/types';
import { MNT_DETACH, MS_BIND, MS_PRIVATE, isSysError, mount, umount } from '../sys/engine';
import { runCriu } from './criu';
import { bindMounts, DESCRIPTORS_FILE, NET_NS_KEY, type ExternalDescriptor } from './dump';

export interface RestoreOptions {
  criu: string;
  spec: ContainerSpec;
  /** CRIU's images (the archive's checkpoint/). */
  imagesDir: string;
  /** Where restore.log and the pid file go. */
  workDir: string;
  /** The new container's fds 0-2; absent ones become /dev/null. */
  stdio: (number | undefined)[];
  timeoutMs?: number;
}

/** Restores the tree and returns the host pid of its root process. */
export async function restoreContainer(o: RestoreOptions): Promise<number> {
  const descriptors = readDescriptors(o.imagesDir);
  const opened: number[] = [];
  const extraFds: number[] = [];
  const inherit = (fd: number, key: string) => {
    extraFds.push(fd);
    return ['--inherit-fd', `fd[${2 + extraFds.length}]:${key}`];
  };
  const pidFile = path.join(o.workDir, 'restore.pid');
  fs.rmSync(pidFile, { force: true });
  mountRoot(o.spec);
  try {
    const args = [
      'restore',
      '--images-dir',
      o.imagesDir,
      '--work-dir',
      o.workDir,
      '--log-file',
      'restore.log',
      '-v4',
      '--root',
      o.spec.root.path,
      '--restore-detached',
      '--pidfile',
      pidFile,
      '--file-locks',
      '--ext-unix-sk',
      '--manage-cgroups=ignore',
    ];
    for (const d of descriptors) {
      let fd = o.stdio[d.fd];
      if (fd === undefined) {
        fd = fs.openSync('/dev/null', 'r+');
        opened.push(fd);
      }
      args.push(...inherit(fd, d.key));
    }
    for (const ns of o.spec.linux.namespaces) {
      if (!ns.path) continue;
      if (ns.type === 'network') {
        const fd = fs.openSync(ns.path, 'r');
        opened.push(fd);
        args.push(...inherit(fd, NET_NS_KEY));
      } else if (ns.type === 'ipc' || ns.type === 'uts') {
        args.push('--join-ns', `${ns.type}:${ns.path}`);
      }
    }
    const sources = new Map(o.spec.mounts.map((m) => [m.destination, m.source]));
    for (const dest of bindMounts(o.spec)) args.push('--external', `mnt[${dest}]:${sources.get(dest)}`);
    await runCriu(
      { criu: o.criu, args, logFile: path.join(o.workDir, 'restore.log'), extraFds, timeoutMs: o.timeoutMs },
      `restore container '${o.spec.id}'`,
    );
    return Number(fs.readFileSync(pidFile, 'utf8').trim());
  } finally {
    opened.forEach((fd) => fs.closeSync(fd));
    detachRoot(o.spec.root.path);
  }
}

function readDescriptors(imagesDir: string): ExternalDescriptor[] {
  const file = path.join(imagesDir, DESCRIPTORS_FILE);
  if (!fs.existsSync(file)) return [];
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (
    !Array.isArray(parsed) ||
    !parsed.every(
      (d: Partial<ExternalDescriptor>) =>
        typeof d?.fd === 'number' &&
        d.fd >= 0 &&
        d.fd <= 2 &&
        typeof d.key === 'string' &&
        /^file\[[0-9a-f]+:[0-9a-f]+\]$/.test(d.key),
    )
  ) {
    throw invalidArgument(
      `Cannot restore from '${imagesDir}': ${DESCRIPTORS_FILE} is not a list of {fd, key}`,
    );
  }
  return parsed as ExternalDescriptor[];
}

/** The overlay on the host, private so that nothing of it propagates to the host's peers. */
function mountRoot(spec: ContainerSpec): void {
  const root = spec.root.path;
  fs.mkdirSync(root, { recursive: true });
  const overlay = spec.root.overlay;
  if (!overlay) {
    mount(root, root, null, MS_BIND);
  } else {
    const data = `lowerdir=${overlay.lowerDirs.join(':')},upperdir=${overlay.upperDir},workdir=${overlay.workDir}`;
    mount('overlay', root, 'overlay', 0, data);
  }
  try {
    mount(null, root, null, MS_PRIVATE);
  } catch (err) {
    detachRoot(root);
    throw err;
  }
}

function detachRoot(root: string): void {
  try {
    umount(root, MNT_DETACH);
  } catch (err) {
    if (!isSysError(err, 'EINVAL') && !isSysError(err, 'ENOENT')) throw err;
  }
}
