// The CRI log format, one record per line: `<timestamp> <stdout|stderr> <F|P> <content>\n`.
//
// Behaviour copied from containerd (internal/cri/io/logger.go, redirectLogs):
// - a line longer than 16 KiB is cut: each full 16 KiB piece is written with tag P, the rest of the
//   line with tag F when its newline arrives;
// - bytes left without a newline at end of stream are written with tag P (containerd does this,
//   and the kubelet's parser accepts a P record as the last one);
// - only "\n" ends a line; a "\r" stays in the content.
// Timestamps are RFC 3339 in UTC with all nine fraction digits (kubelet parses them with Go's
// RFC3339Nano layout, which accepts any number of digits; fixed width keeps lines sortable).
import fs from 'node:fs';
import path from 'node:path';
import type { LogLoss } from './log_drops';

export type StreamName = 'stdout' | 'stderr';

/** containerd's default max_container_log_line_size. */
export const MAX_LOG_LINE_BYTES = 16 * 1024;

/** RFC 3339 UTC with nanoseconds, from ns since the epoch. */
export function formatTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const nanos = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** Where records go; a file that can be reopened after rotation, or a fake in tests. */
export interface LogSink {
  write(record: Buffer): void;
}

export interface CriRecord {
  tag: 'F' | 'P';
  body: Buffer;
}

/**
 * Cuts the complete records off the front of a stream's pending bytes. Stateless: what is not
 * returned as consumed stays where it is (in the pipe) until more bytes complete it, so nothing
 * lives only in the monitor's memory. `atEnd` says no byte will ever follow (every writer gone).
 */
export function cutRecords(
  bytes: Buffer,
  atEnd: boolean,
  maxLine = MAX_LOG_LINE_BYTES,
): { records: CriRecord[]; consumed: number } {
  const records: CriRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    // A newline right after a full 16 KiB piece still ends the line: such a line is one F record.
    const newline = bytes.subarray(pos, pos + maxLine + 1).indexOf(0x0a);
    if (newline !== -1) {
      records.push({ tag: 'F', body: bytes.subarray(pos, pos + newline) });
      pos += newline + 1;
    } else if (bytes.length - pos > maxLine) {
      records.push({ tag: 'P', body: bytes.subarray(pos, pos + maxLine) });
      pos += maxLine;
    } else if (atEnd) {
      records.push({ tag: 'P', body: bytes.subarray(pos) });
      pos = bytes.length;
    } else {
      break; // an unfinished line: wait for the rest
    }
  }
  return { records, consumed: pos };
}

/** The records as one buffer, so they reach the file in one write(2). */
export function formatRecords(stream: StreamName, records: CriRecord[], ns: bigint): Buffer {
  const stamp = formatTimestamp(ns);
  const parts: Buffer[] = [];
  for (const record of records) {
    parts.push(Buffer.from(`${stamp} ${stream} ${record.tag} `), record.body, NEWLINE);
  }
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

/**
 * A log file opened for append. Each batch of records is one write(2) on an O_APPEND fd, so
 * records from stdout and stderr never interleave inside a line. reopen() serves ReopenContainerLog: the
 * kubelet renames the file, then asks us to create a new one at the same path.
 */
export class CriLogFile implements LogSink {
  private fd: number | undefined;
  private dropping = false;

  constructor(
    readonly filePath: string,
    private readonly loss?: LogLoss,
  ) {
    this.fd = CriLogFile.open(filePath);
  }

  write(record: Buffer): void {
    if (this.fd === undefined) return;
    try {
      writeWhole(this.fd, record);
      if (this.dropping) {
        this.dropping = false;
        this.loss?.resumed();
      }
    } catch (err) {
      // A full disk must not stop the container: the records are dropped and counted.
      this.dropping = true;
      this.loss?.dropped(err, countLines(record), record.length);
    }
  }

  reopen(): void {
    const next = CriLogFile.open(this.filePath); // open first: on failure the old file stays in use
    this.close();
    this.fd = next;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Opens the log beneath its directory without following a link at either: a container that can
   * write its log directory (shared into it as a volume) may plant one before a reopen, and the
   * monitor, root on the host, would then create or append to the host file it names.
   */
  private static open(filePath: string): number {
    const dir = path.dirname(filePath);
    fs.mkdirSync(dir, { recursive: true });
    const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_WRONLY, O_APPEND, O_CREAT } = fs.constants;
    const dirFd = refuseLinks(dir, () => fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    try {
      // Through the held directory fd: a swap of the directory after the check changes nothing.
      const beneath = `/proc/self/fd/${dirFd}/${path.basename(filePath)}`;
      return refuseLinks(filePath, () =>
        fs.openSync(beneath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o640),
      );
    } finally {
      fs.closeSync(dirFd);
    }
  }
}

/**
 * One batch of records, or none of it: a write the disk cut short is taken back, so that the next
 * record never starts in the middle of a line (the kubelet would misread both).
 */
function writeWhole(fd: number, record: Buffer): void {
  let written = 0;
  try {
    while (written < record.length) written += fs.writeSync(fd, record, written);
  } catch (err) {
    if (written > 0) {
      try {
        fs.ftruncateSync(fd, fs.fstatSync(fd).size - written);
      } catch {
        // the file stays with a cut record; nothing better can be done on a failing disk
      }
    }
    throw err;
  }
}

function countLines(record: Buffer): number {
  let n = 0;
  for (let i = record.indexOf(0x0a); i !== -1; i = record.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** ELOOP (or ENOTDIR for O_DIRECTORY) from an O_NOFOLLOW open means a symlink was refused: say so. */
function refuseLinks<T>(what: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (
      code === 'ELOOP' ||
      (code === 'ENOTDIR' && fs.lstatSync(what, { throwIfNoEntry: false })?.isSymbolicLink())
    ) {
      throw new Error(
        `refusing the container log '${what}': it is a symlink, which the monitor never follows`,
      );
    }
    throw err;
  }
}
