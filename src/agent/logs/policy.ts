// The kubelet's container log rotation policy (pkg/kubelet/logs/container_log_manager.go): when a
// running container's log reaches containerLogMaxSize, it is renamed to `<log>.<timestamp>` and the
// runtime reopens the log; older rotated files are gzipped, and beyond containerLogMaxFiles (the
// live log and the newest rotated one included) the oldest go. Pure decisions here, the file work
// in rotate.ts.
import { parseQuantity } from '../quantity';

export interface LogRotationPolicy {
  /** Rotate a live log at this size; negative turns rotation off (the kubelet's stub manager). */
  maxSizeBytes: number;
  /** Files kept per container, the live one included; at least 2. */
  maxFiles: number;
}

/** The KubeletConfiguration defaults: containerLogMaxSize 10Mi, containerLogMaxFiles 5. */
export const DEFAULT_LOG_ROTATION: LogRotationPolicy = { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 5 };
/** containerLogMonitorInterval: 10 s by default, at least 3 s (the kubelet's validation). */
export const DEFAULT_LOG_MONITOR_INTERVAL_MS = 10_000;
export const MIN_LOG_MONITOR_INTERVAL_MS = 3_000;

export const COMPRESS_SUFFIX = '.gz';
export const TMP_SUFFIX = '.tmp';

/** The policy of the kubelet's flags, refused as the kubelet refuses it. */
export function parseLogRotationPolicy(maxSize: string | undefined, maxFiles: string | undefined) {
  let maxSizeBytes = DEFAULT_LOG_ROTATION.maxSizeBytes;
  if (maxSize !== undefined) {
    try {
      maxSizeBytes = Math.ceil(parseQuantity(maxSize));
    } catch {
      throw new Error(`Cannot use container log max size '${maxSize}': not a quantity such as 10Mi`);
    }
  }
  const files = maxFiles === undefined ? DEFAULT_LOG_ROTATION.maxFiles : Number(maxFiles);
  if (!Number.isInteger(files) || files <= 1)
    throw new Error(`Cannot use container log max files '${maxFiles}': it must be an integer greater than 1`);
  return { maxSizeBytes, maxFiles: files };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `<log>.20060102-150405` in local time, as the kubelet names a rotated log. */
export function rotatedLogName(log: string, at: Date): string {
  const stamp =
    `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-` +
    `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  return `${log}.${stamp}`;
}

export interface RotationPlan {
  /** Left over by an interrupted rotation: temporary files, and rotated files already compressed. */
  unused: string[];
  /** The oldest rotated files beyond what the policy keeps. */
  excess: string[];
  /** Rotated files still plain: they are gzipped before the live log is rotated again. */
  compress: string[];
}

/** A temporary file, or a plain file whose .gz exists, is left over from an interrupted round (isInUse). */
function inUse(file: string, all: Set<string>): boolean {
  if (file.endsWith(TMP_SUFFIX)) return false;
  if (file.endsWith(COMPRESS_SUFFIX)) return true;
  return !all.has(file + COMPRESS_SUFFIX);
}

/**
 * What happens to the rotated files (`<log>.*`) before the live log is rotated again. The new live
 * file and the one about to be rotated count against maxFiles, so maxFiles-2 older ones stay,
 * removed oldest first (their names sort by time) so that a reader in the middle of one keeps it.
 */
export function planRotation(rotated: string[], maxFiles: number): RotationPlan {
  const all = new Set(rotated);
  const unused = rotated.filter((f) => !inUse(f, all));
  const kept = rotated.filter((f) => inUse(f, all)).sort();
  const keep = Math.max(0, maxFiles - 2);
  const excess = kept.slice(0, Math.max(0, kept.length - keep));
  const compress = kept.slice(excess.length).filter((f) => !f.endsWith(COMPRESS_SUFFIX));
  return { unused, excess, compress };
}
