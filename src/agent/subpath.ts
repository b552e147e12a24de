// Safe subPath mounts, as the kubelet's (pkg/volume/util/subpath/subpath_linux.go) since
// CVE-2017-1002101. A container can plant symlinks in a volume it shares (an init container runs
// `ln -s / /vol/x`); the runtime resolving `<volume>/x` as text would then mount the host's "/" into
// the next container. So the node resolves the subPath itself, beneath the volume root with
// openat2(RESOLVE_BENEATH): a link or ".." that climbs out fails (EXDEV), links that stay inside are
// followed. Missing directories are made one at a time with mkdirat in the directory just opened.
// The opened descriptor is bind-mounted (/proc/self/fd/N) to a path the node owns,
// <pod dir>/volume-subpaths/<volume>/<container>/<index>, and that path goes to the runtime: what
// the container sees is the object resolved here, whatever the volume holds by then.
import fs from 'node:fs';
import path from 'node:path';
import {
  isSysError,
  mkdirAt,
  mount,
  MS_BIND,
  MNT_DETACH,
  O_CLOEXEC,
  O_PATH,
  openBeneath,
  umount,
} from '../runtime/sys';
import { ContainerConfigError } from './container_config_error';

/** Where the node binds volumeMount number `index` of a container (the kubelet's layout). */
export function subPathTarget(podDir: string, volume: string, container: string, index: number): string {
  return path.join(podDir, 'volume-subpaths', volume, container, String(index));
}

/** The subPath's components; refuses an absolute path or one with "..". */
export function subPathParts(subPath: string): string[] | undefined {
  if (path.isAbsolute(subPath)) return undefined;
  const parts = subPath.split('/').filter((p) => p !== '' && p !== '.');
  return parts.includes('..') ? undefined : parts;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * Opens `subPath` beneath `root` (O_PATH), making missing directories with `mode` on the way; never
 * resolves anything outside `root`. Throws the SysError of the step that failed (EXDEV: it leaves).
 */
export function openSubPath(root: string, subPath: string, mode: number): number {
  const parts = subPathParts(subPath);
  if (!parts) throw new ContainerConfigError('it leaves the volume');
  const rootFd = fs.openSync(root, O_PATH | O_CLOEXEC | fs.constants.O_DIRECTORY);
  try {
    if (parts.length === 0) return openBeneath(rootFd, '.');
    for (let i = 1; ; i++) {
      const rel = parts.slice(0, i).join('/');
      let fd: number;
      try {
        fd = openBeneath(rootFd, rel);
      } catch (err) {
        if (!isSysError(err, 'ENOENT')) throw err;
        const parentFd = i === 1 ? rootFd : openBeneath(rootFd, parts.slice(0, i - 1).join('/'));
        try {
          mkdirAt(parentFd, parts[i - 1], mode, rel);
        } catch (mkErr) {
          // A dangling link in its place: the open below fails again and says so.
          if (!isSysError(mkErr, 'EEXIST')) throw mkErr;
        } finally {
          if (parentFd !== rootFd) closeQuietly(parentFd);
        }
        fd = openBeneath(rootFd, rel);
        // The umask must not narrow the mode (the kubelet chmods too); through the descriptor, not the path.
        fs.chmodSync(`/proc/self/fd/${fd}`, mode);
      }
      if (i === parts.length) return fd;
      closeQuietly(fd);
    }
  } finally {
    closeQuietly(rootFd);
  }
}

/** Unmounts `target` until nothing is mounted there (a bind from an earlier start of the container). */
function unmountAll(target: string, isMountPoint: (p: string) => boolean): void {
  for (let i = 0; i < 8 && isMountPoint(target); i++) umount(target, MNT_DETACH);
}

/**
 * Binds what `fd` holds to `target` (made as an empty directory or file to match), replacing an
 * earlier bind there; checks the mount shows that very object.
 */
export function bindDescriptor(fd: number, target: string, isMountPoint: (p: string) => boolean): void {
  const source = fs.fstatSync(fd);
  unmountAll(target, isMountPoint);
  // Never replace (delete) the target through a mount that stayed.
  if (isMountPoint(target)) throw new Error(`Cannot bind subPath to '${target}': it stays mounted`);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o750 });
  const existing = fs.lstatSync(target, { throwIfNoEntry: false });
  if (existing && existing.isDirectory() !== source.isDirectory()) fs.rmSync(target, { recursive: true });
  if (source.isDirectory()) fs.mkdirSync(target, { recursive: true, mode: 0o750 });
  else fs.writeFileSync(target, '', { flag: 'a', mode: 0o640 });
  mount(`/proc/self/fd/${fd}`, target, null, MS_BIND);
  const bound = fs.statSync(target);
  if (bound.ino !== source.ino || bound.dev !== source.dev) {
    umount(target, MNT_DETACH);
    throw new Error(`Cannot bind subPath to '${target}': the mount shows another file`);
  }
}
