// Resolving a container path to a host path INSIDE the root: symlinks in the image are followed as
// if the root were '/', and '..' never climbs above it (what runc's securejoin does), so a hostile
// image cannot make a mount land on the host.
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../common/errors';

const MAX_SYMLINKS = 255;

export function resolveInRoot(root: string, containerPath: string): string {
  const pending = containerPath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(candidate);
    } catch {
      stat = undefined; // a missing component stays literal: the caller may create it
    }
    if (stat?.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) {
        throw invalidArgument(`Cannot resolve '${containerPath}' in '${root}': too many symbolic links`);
      }
      const target = fs.readlinkSync(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}
