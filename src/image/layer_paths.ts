// Resolving a layer entry's path inside the snapshot it is applied to, in the spirit of
// securejoin / openat2(RESOLVE_IN_ROOT): every component is looked at with lstat, symlinks are
// followed only while they stay inside the root, and nothing can name a place outside it.
// The applier is the only writer of a snapshot being built, so checking then acting is safe.
import fs from 'node:fs';
import path from 'node:path';

/** A layer entry that would reach outside its snapshot. */
export class UnsafePathError extends Error {}

const MAX_SYMLINKS = 40;
/**
 * Components one entry's walk may look at, symlink targets included. Each is an lstat on the
 * daemon's event loop, and 40 links of 4 KiB `d/../d/..` each made one 512-byte header cost 64,000
 * of them. A name the kernel could open has fewer than 2,048 components.
 */
const MAX_WALKED_COMPONENTS = 4096;

/**
 * Splits a tar entry name into clean components. Refuses absolute names and any `..`, which a
 * well-formed layer never has.
 */
export function entryComponents(name: string): string[] {
  // umoci writes the root itself as "/": that one absolute name is the root, not an escape.
  if (name === '/') return [];
  if (name.startsWith('/'))
    throw new UnsafePathError(`Cannot apply layer entry '${name}': absolute paths are refused`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new UnsafePathError(`Cannot apply layer entry '${name}': paths with '..' are refused`);
  }
  return parts;
}

/**
 * Returns the host path of the directory named by `components` inside `root`, creating missing
 * directories (0755, as containerd does). Symlinks on the way are followed inside the root; one
 * that is absolute or climbs above the root is refused, so a write through it cannot escape.
 */
export function resolveDirInRoot(root: string, components: string[], entry: string): string {
  const resolved: string[] = [];
  const queue = [...components];
  let hops = 0;
  let walked = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (++walked > MAX_WALKED_COMPONENTS) {
      throw new UnsafePathError(
        `Cannot apply layer entry '${entry}': resolving it takes more than ${MAX_WALKED_COMPONENTS} path components (through its symlinks)`,
      );
    }
    if (c === '..') {
      if (resolved.length === 0) {
        throw new UnsafePathError(
          `Cannot apply layer entry '${entry}': a symlink on its path leads above the root`,
        );
      }
      resolved.pop();
      continue;
    }
    const here = path.join(root, ...resolved, c);
    const st = lstatOrUndefined(here);
    if (!st) {
      fs.mkdirSync(here, { mode: 0o755 });
      resolved.push(c);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) {
        throw new UnsafePathError(`Cannot apply layer entry '${entry}': too many levels of symlinks`);
      }
      const target = fs.readlinkSync(here);
      if (target.startsWith('/')) {
        throw new UnsafePathError(
          `Cannot apply layer entry '${entry}': it leads through the absolute symlink '${[...resolved, c].join('/')}' -> '${target}', which points outside the layer`,
        );
      }
      queue.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    if (!st.isDirectory()) {
      throw new UnsafePathError(
        `Cannot apply layer entry '${entry}': '${[...resolved, c].join('/')}' is not a directory`,
      );
    }
    resolved.push(c);
  }
  return path.join(root, ...resolved);
}

/** The parent directory (resolved in root) and base name of an entry. */
export function entryLocation(
  root: string,
  name: string,
): { dir: string; base: string; target: string } | undefined {
  const parts = entryComponents(name);
  if (parts.length === 0) return undefined; // the root itself
  const base = parts[parts.length - 1];
  const dir = resolveDirInRoot(root, parts.slice(0, -1), name);
  return { dir, base, target: path.join(dir, base) };
}

export function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
