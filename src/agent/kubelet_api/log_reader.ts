// The kubelet's ReadLogs over a container's log files: the rotated ones (gzipped or not) and the
// live one, in order, so `kubectl logs` (and `--previous`) goes on across rotation. tailLines counts
// back across the files, sinceSeconds/sinceTime, stream and limitBytes apply to the whole, and
// timestamps prefix each logical line once (not each piece of a long one), in RFC 3339 with the
// nanoseconds' trailing zeros cut, as Go's time.RFC3339Nano prints them. Follow reads the live file
// on, switching to the new one when the log is rotated under it, until the container stops.
import fs from 'node:fs';
import { containerLogFiles, isCompressed, openLogStream } from '../logs';
import { parseLogLine, type LogEntry, type LogFilter } from './cri_log';

export interface ReadLogOptions extends LogFilter {
  tailLines?: number;
  follow: boolean;
}

export interface LogSink {
  /** Writes what the client sees; false once no more should be written (limitBytes reached). */
  write(chunk: Buffer): boolean;
  /** The client went away. */
  closed(): boolean;
}

const POLL_MS = 250;
const STATUS_EVERY_MS = 1000;
const NEWLINE = 0x0a;

/** Splits a byte stream into lines; end() gives the unterminated last one, as the kubelet reads it. */
class LineSplitter {
  private rest = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let from = 0;
    for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, from)) {
      lines.push(data.subarray(from, nl));
      from = nl + 1;
    }
    this.rest = Buffer.from(data.subarray(from));
    return lines;
  }

  end(): Buffer[] {
    const last = this.rest;
    this.rest = Buffer.alloc(0);
    return last.length ? [last] : [];
  }
}

/** Go's RFC3339Nano: the fraction without its trailing zeros (and without the dot when none is left). */
export function rfc3339Nano(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  return `${m[1]}${frac ? `.${frac}` : ''}${m[3]}`;
}

/** Turns entries into the client's bytes, keeping whether the next entry starts a line. */
export class LogRenderer {
  private atLineStart = true;

  constructor(private readonly filter: LogFilter) {}

  render(entry: LogEntry): Buffer | undefined {
    const prefix = this.filter.timestamps && this.atLineStart;
    this.atLineStart = !entry.partial;
    if (this.filter.stream && entry.stream !== this.filter.stream) return undefined;
    if (this.filter.sinceMs !== undefined && entry.timeMs < this.filter.sinceMs) return undefined;
    const parts = [entry.content];
    if (prefix) parts.unshift(Buffer.from(`${rfc3339Nano(entry.time)} `));
    if (!entry.partial) parts.push(Buffer.from('\n'));
    return Buffer.concat(parts);
  }
}

/** Where the last `lines` lines of a plain file start, and how many it holds (fewer when short). */
export async function tailStart(file: string, lines: number): Promise<{ offset: number; lines: number }> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (lines <= 0 || size === 0) return { offset: size, lines: 0 };
    const block = Buffer.allocUnsafe(64 * 1024);
    let end = size;
    let seen = 0;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      for (let i = bytesRead - 1; i >= 0; i--) {
        // A newline ends the line before it; the file's own last byte ends the last line.
        if (block[i] !== NEWLINE || start + i === size - 1) continue;
        seen++;
        if (seen === lines) return { offset: start + i + 1, lines };
      }
      end = start;
    }
    return { offset: 0, lines: seen + 1 };
  } finally {
    await handle.close();
  }
}

/** The number of lines of a (gzipped) file, the last one counted without its newline. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = NEWLINE;
  for await (const chunk of openLogStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) lines++;
    if (chunk.length) last = chunk[chunk.length - 1];
  }
  return last === NEWLINE ? lines : lines + 1;
}

interface FilePart {
  file: string;
  /** Byte offset to start from (plain files). */
  offset: number;
  /** Lines to skip first (gzipped files, which cannot be read backwards). */
  skipLines: number;
}

/** The files (or their ends) that hold the last `tailLines` lines, oldest first. */
export async function partsToRead(files: string[], tailLines: number | undefined): Promise<FilePart[]> {
  if (tailLines === undefined) return files.map((file) => ({ file, offset: 0, skipLines: 0 }));
  const parts: FilePart[] = [];
  let remaining = tailLines;
  for (let i = files.length - 1; i >= 0 && remaining > 0; i--) {
    const file = files[i];
    if (isCompressed(file)) {
      const total = await countLines(file);
      parts.unshift({ file, offset: 0, skipLines: Math.max(0, total - remaining) });
      remaining -= Math.min(total, remaining);
    } else {
      const tail = await tailStart(file, remaining);
      parts.unshift({ file, offset: tail.offset, skipLines: 0 });
      remaining -= tail.lines;
    }
  }
  return parts;
}

/** Writes entries of `lines` to the sink; false once the sink wants no more. */
function emit(lines: Buffer[], renderer: LogRenderer, sink: LogSink): boolean {
  for (const line of lines) {
    const entry = parseLogLine(line);
    const out = entry && renderer.render(entry);
    if (out && !sink.write(out)) return false;
  }
  return true;
}

/** A finished file: its entries from `part`, the unterminated last line too. */
async function readWhole(part: FilePart, renderer: LogRenderer, sink: LogSink): Promise<boolean> {
  const splitter = new LineSplitter();
  let skip = part.skipLines;
  const stream = openLogStream(part.file, part.offset);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (sink.closed()) return false;
      let lines = splitter.push(chunk);
      if (skip > 0) {
        const n = Math.min(skip, lines.length);
        skip -= n;
        lines = lines.slice(n);
      }
      if (!emit(lines, renderer, sink)) return false;
    }
  } finally {
    stream.destroy();
  }
  return skip > 0 || emit(splitter.end(), renderer, sink);
}

/**
 * Reads the container's log (`logPath`, the live file, and the rotated files beside it) into the
 * sink. `running` tells a follower whether the container still runs.
 */
export async function readContainerLog(
  logPath: string,
  options: ReadLogOptions,
  sink: LogSink,
  running: () => Promise<boolean>,
): Promise<void> {
  const renderer = new LogRenderer(options);
  const parts = await partsToRead(await containerLogFiles(logPath), options.tailLines);
  const livePart = parts.length && parts[parts.length - 1].file === logPath ? parts.pop() : undefined;
  for (const part of parts) if (!(await readWhole(part, renderer, sink))) return;
  if (!livePart && !options.follow) return;
  // tailLines=0 and following: only what comes from now on.
  const offset = livePart?.offset ?? fs.statSync(logPath, { throwIfNoEntry: false })?.size ?? 0;
  await readLive(logPath, offset, { renderer, sink, follow: options.follow, running });
}

async function readLive(
  logPath: string,
  offset: number,
  ctx: { renderer: LogRenderer; sink: LogSink; follow: boolean; running: () => Promise<boolean> },
): Promise<void> {
  const { renderer, sink } = ctx;
  let handle = await fs.promises.open(logPath, 'r').catch(() => undefined);
  let position = offset;
  let splitter = new LineSplitter();
  const buf = Buffer.allocUnsafe(256 * 1024);
  let idleSince = Date.now();
  let draining = false;
  try {
    for (;;) {
      if (sink.closed()) return;
      const n = handle ? (await handle.read(buf, 0, buf.length, position)).bytesRead : 0;
      if (n > 0) {
        position += n;
        idleSince = Date.now();
        if (!emit(splitter.push(buf.subarray(0, n)), renderer, sink)) return;
        continue;
      }
      if (!ctx.follow || draining) {
        emit(splitter.end(), renderer, sink);
        return;
      }
      // Rotated under us: what the old file held is read; go on with the new one once it is there.
      const named = await fs.promises.stat(logPath).catch(() => undefined);
      const open = handle && (await handle.stat());
      if (named && (!open || named.ino !== open.ino || named.dev !== open.dev)) {
        emit(splitter.end(), renderer, sink);
        await handle?.close();
        handle = await fs.promises.open(logPath, 'r').catch(() => undefined);
        position = 0;
        splitter = new LineSplitter();
        continue;
      }
      if (Date.now() - idleSince >= STATUS_EVERY_MS) {
        idleSince = Date.now();
        // Stopped: what it wrote last is read once more, then the answer ends.
        if (!(await ctx.running().catch(() => false))) {
          draining = true;
          continue;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await handle?.close();
  }
}
