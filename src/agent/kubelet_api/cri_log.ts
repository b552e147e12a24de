// The CRI log file format (one entry a line: `<RFC3339Nano time> <stdout|stderr> <P|F> <content>`,
// P for a piece of a longer line) and how the kubelet turns it back into the container's output.
import fs from 'node:fs';

export interface LogEntry {
  time: string;
  timeMs: number;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  content: Buffer;
}

export interface LogFilter {
  /** Entries before this time (ms since the epoch) are skipped. */
  sinceMs?: number;
  timestamps: boolean;
  stream?: 'stdout' | 'stderr';
}

/** One line of the file, without its newline; undefined when it is not a CRI log line. */
export function parseLogLine(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const time = line.subarray(0, s1).toString();
  const stream = line.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag may be missing in very old files: then the content is a whole line.
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = s3 < 0 ? line.subarray(s2 + 1).toString() : line.subarray(s2 + 1, s3).toString();
  const tagged = /^[PF](:|$)/.test(tag);
  const content = tagged ? (s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1)) : line.subarray(s2 + 1);
  return { time, timeMs: Date.parse(time), stream, partial: tagged && tag.startsWith('P'), content };
}

/** What the entry shows the client, or undefined when the filter drops it. */
export function renderEntry(entry: LogEntry, filter: LogFilter): Buffer | undefined {
  if (filter.stream && entry.stream !== filter.stream) return undefined;
  if (filter.sinceMs !== undefined && entry.timeMs < filter.sinceMs) return undefined;
  const parts = [entry.content];
  if (filter.timestamps) parts.unshift(Buffer.from(`${entry.time} `));
  if (!entry.partial) parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** The offset where the last `lines` lines of the file start, read backwards in blocks. */
export function tailOffset(fd: number, size: number, lines: number): number {
  if (lines <= 0) return size;
  const block = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  let seen = 0;
  // A last line without its newline yet still counts as a line.
  let skipFinalNewline = true;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const n = fs.readSync(fd, block, 0, end - start, start);
    for (let i = n - 1; i >= 0; i--) {
      if (block[i] !== 0x0a) {
        skipFinalNewline = false;
        continue;
      }
      if (skipFinalNewline && start + i === size - 1) continue;
      seen++;
      if (seen === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/** Splits a growing byte stream into lines; keeps an unfinished last line for the next chunk. */
export class LineSplitter {
  private rest = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let from = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, from)) {
      lines.push(data.subarray(from, nl));
      from = nl + 1;
    }
    this.rest = Buffer.from(data.subarray(from));
    return lines;
  }
}
