// The kubelet owns the pod-level cgroup (the runtime only removes its containers' own cgroups):
// once the pod is gone, its directory is removed in every hierarchy (cgroup v1 controllers, or v2).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/log';
import { messageOf } from '../common/errors';

const CGROUP_MOUNT = '/sys/fs/cgroup';

export function removePodCgroup(parent: string, log: Logger, base = CGROUP_MOUNT): void {
  let controllers: string[] = [];
  try {
    controllers = fs.readdirSync(base);
  } catch {
    // no cgroup file system here: nothing to remove
  }
  const candidates = [path.join(base, parent), ...controllers.map((c) => path.join(base, c, parent))];
  for (const dir of candidates) {
    try {
      if (fs.existsSync(dir)) fs.rmdirSync(dir); // rmdir: it must be empty, we never delete a live cgroup
    } catch (err) {
      log.warn({ dir, err: messageOf(err) }, 'cannot remove pod cgroup');
    }
  }
}
