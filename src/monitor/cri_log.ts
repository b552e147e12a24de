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

/**
 * Splits one stream's bytes into CRI records. Holds at most one unfinished line (< 16 KiB) between
 * chunks. Not thread-safe and not shared: one per stream.
 */
export class CriLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly stream: StreamName,
    private readonly sink: LogSink,
    private readonly clock: () => bigint,
    private readonly maxLine = MAX_LOG_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk.subarray(start, end));
      if (newline === -1) return;
      this.emit('F');
      start = newline + 1;
    }
  }

  /** End of stream: what is left has no newline and goes out as a partial record. */
  end(): void {
    if (this.pendingBytes > 0) this.emit('P');
  }

  private take(bytes: Buffer): void {
    let rest = bytes;
    // Cut only when more content follows a full piece, so a line of exactly 16 KiB stays one F record.
    while (this.pendingBytes + rest.length > this.maxLine) {
      const room = this.maxLine - this.pendingBytes;
      this.pending.push(rest.subarray(0, room));
      this.pendingBytes += room;
      this.emit('P');
      rest = rest.subarray(room);
    }
    if (rest.length > 0) {
      this.pending.push(Buffer.from(rest)); // copy: the reader may reuse its chunk
      this.pendingBytes += rest.length;
    }
  }

  private emit(tag: 'F' | 'P'): void {
    const header = Buffer.from(`${formatTimestamp(this.clock())} ${this.stream} ${tag} `);
    this.sink.write(Buffer.concat([header, ...this.pending, Buffer.from('\n')]));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * A log file opened for append. Each record is one write(2) on an O_APPEND fd, so records from
 * stdout and stderr never interleave inside a line. reopen() serves ReopenContainerLog: the
 * kubelet renames the file, then asks us to create a new one at the same path.
 */
export class CriLogFile implements LogSink {
  private fd: number | undefined;

  constructor(
    readonly filePath: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.fd = CriLogFile.open(filePath);
  }

  write(record: Buffer): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, record);
    } catch (err) {
      // A full disk must not stop the container: the record is dropped and reported.
      this.onError(err);
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

  private static open(filePath: string): number {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    return fs.openSync(filePath, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
  }
}
