// A full disk, said the way an operator can act on: which directories the failed call writes to and
// how much room their filesystems have now (after the call undid what it had written).
import fs from 'node:fs';
import { isDiskFull, messageOf, resourceExhausted } from './errors';

/**
 * For `.catch()`: a full-disk failure of `action` becomes RESOURCE_EXHAUSTED naming `dirs` (label →
 * path) with their free bytes; any other error goes on unchanged.
 */
export function explainDiskFull(action: string, dirs: Record<string, string | undefined>) {
  return (err: unknown): never => {
    if (!isDiskFull(err)) throw err;
    const free = Object.entries(dirs)
      .filter((entry): entry is [string, string] => Boolean(entry[1]))
      .map(([label, dir]) => `${label} '${dir}' ${freeBytes(dir)}`)
      .join(', ');
    throw resourceExhausted(
      `Cannot ${action}: ${messageOf(err)}; free now: ${free}; nothing of it was kept`,
      err,
    );
  };
}

function freeBytes(dir: string): string {
  try {
    const st = fs.statfsSync(dir);
    return `${st.bavail * st.bsize} bytes`;
  } catch {
    return 'unknown';
  }
}
