// One container's rotation, in the kubelet's order (rotateLog): clear what an interrupted round
// left, remove the rotated files beyond the policy, gzip the plain ones, then rename the live log
// to `<log>.<timestamp>` and have the runtime reopen it. Only the live log is left plain after a
// round, so a shipper still reading it finds it where it was.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { COMPRESS_SUFFIX, planRotation, rotatedLogName, TMP_SUFFIX } from './policy';

export interface ReopenRuntime {
  reopenContainerLog(containerId: string): Promise<void>;
}

/** The rotated files of a live log: `<log>.<anything>`, as the kubelet's glob. */
export async function rotatedFiles(log: string): Promise<string[]> {
  const dir = path.dirname(log);
  const prefix = `${path.basename(log)}.`;
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).map((n) => path.join(dir, n));
}

/** Gzips `file` to `file.gz` through a temporary file, then removes `file`. */
export async function compressLog(file: string): Promise<void> {
  const tmp = file + TMP_SUFFIX;
  try {
    await pipeline(
      fs.createReadStream(file),
      zlib.createGzip(),
      fs.createWriteStream(tmp, { flags: 'w', mode: 0o644 }),
    );
    await fs.promises.rename(tmp, file + COMPRESS_SUFFIX);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
  await fs.promises.rm(file, { force: true });
}

export async function rotateContainerLog(
  runtime: ReopenRuntime,
  target: { id: string; log: string },
  options: { maxFiles: number; now: Date },
): Promise<void> {
  const { id, log } = target;
  const plan = planRotation(await rotatedFiles(log), options.maxFiles);
  for (const f of [...plan.unused, ...plan.excess]) await fs.promises.rm(f, { force: true });
  for (const f of plan.compress) await compressLog(f);
  const rotated = rotatedLogName(log, options.now);
  // Two rounds within one second would name the same file: the second waits for the next round.
  if (fs.existsSync(rotated) || fs.existsSync(rotated + COMPRESS_SUFFIX))
    throw new Error(`Cannot rotate log '${log}': '${rotated}' already exists`);
  await fs.promises.rename(log, rotated);
  try {
    await runtime.reopenContainerLog(id);
  } catch (err) {
    // Put the log back so the next round can try again (the kubelet's rotateLatestLog).
    await fs.promises.rename(rotated, log).catch(() => undefined);
    throw err;
  }
}
