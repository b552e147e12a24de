// Resolving a container path to a host path INSIDE the root: symlinks in the image are followed as
// if the root were '/', and '..' never climbs above it (what runc's securejoin does). A string
// is stale as soon as it is returned, so it only says WHERE a missing path is to be created;
// in_root.ts then opens and creates it through descriptors, which is what keeps it in the root.
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
    // Gone or no longer a link by the time it is read (a volume another container changes): taken
    // literally, like a missing component. The caller opens what this names inside the root anyway.
    const target = stat?.isSymbolicLink() ? readlinkOrUndefined(candidate) : undefined;
    if (target !== undefined) {
      if (++links > MAX_SYMLINKS) {
        throw invalidArgument(`Cannot resolve '${containerPath}' in '${root}': too many symbolic links`);
      }
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}

function readlinkOrUndefined(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}
