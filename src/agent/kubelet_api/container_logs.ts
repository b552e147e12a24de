// GET /containerLogs/{namespace}/{pod}/{container}: the container's CRI log file as plain output,
// with the PodLogOptions the API server forwards (follow, previous, tailLines, sinceSeconds,
// sinceTime, timestamps, limitBytes, stream). Follow waits for more until the container stops or the
// client goes away, as the kubelet's ReadLogs does.
import fs from 'node:fs';
import type http from 'node:http';
import type { KubeletApiCri } from './cri';
import { LineSplitter, parseLogLine, renderEntry, tailOffset, type LogFilter } from './cri_log';
import { badRequest, notFoundError } from './http_reply';
import { findContainer, type PodRef } from './resolve';

export interface LogOptions extends LogFilter {
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
}

const POLL_MS = 250;
const STATUS_EVERY_MS = 1000;

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw badRequest(`Cannot read the log options: ${name}=${v} is not a boolean`);
}

function count(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min)
    throw badRequest(`Cannot read the log options: ${name}=${v} must be an integer of at least ${min}`);
  return Number(v);
}

export function parseLogOptions(q: URLSearchParams, nowMs = Date.now()): LogOptions {
  const sinceSeconds = count(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime)
    throw badRequest('at most one of sinceTime or sinceSeconds may be specified');
  let sinceMs = sinceSeconds !== undefined ? nowMs - sinceSeconds * 1000 : undefined;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs))
      throw badRequest(`Cannot read the log options: sinceTime=${sinceTime} is not a time`);
  }
  const stream = q.get('stream') ?? undefined;
  if (stream !== undefined && stream !== 'stdout' && stream !== 'stderr' && stream !== 'All')
    throw badRequest(`Cannot read the log options: stream=${stream} is not stdout, stderr or All`);
  return {
    follow: flag(q, 'follow'),
    previous: flag(q, 'previous'),
    timestamps: flag(q, 'timestamps'),
    tailLines: count(q, 'tailLines', 0) ?? count(q, 'tail', 0),
    limitBytes: count(q, 'limitBytes', 1),
    sinceMs,
    stream: stream === 'All' ? undefined : stream,
  };
}

/** Writes the log to `res` until its end (or, following, until the container stops or the client leaves). */
export async function serveContainerLogs(
  cri: KubeletApiCri,
  pod: PodRef,
  containerName: string,
  query: URLSearchParams,
  res: http.ServerResponse,
): Promise<void> {
  const options = parseLogOptions(query);
  const container = await findContainer(cri, pod, containerName, options.previous);
  const { status } = await cri.containerStatus(container.id);
  const logPath = status?.log_path;
  if (!logPath || !fs.existsSync(logPath))
    throw notFoundError(
      `Cannot read the log of container "${containerName}": the runtime has no log file for it`,
    );
  const follow = options.follow && status?.state === 'CONTAINER_RUNNING';

  let closed = false;
  res.on('close', () => (closed = true));
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  let budget = options.limitBytes ?? Infinity;
  const write = (chunk: Buffer): boolean => {
    const part = chunk.length > budget ? chunk.subarray(0, budget) : chunk;
    budget -= part.length;
    if (part.length > 0) res.write(part);
    return budget > 0;
  };

  let fd = fs.openSync(logPath, 'r');
  try {
    let position =
      options.tailLines !== undefined ? tailOffset(fd, fs.fstatSync(fd).size, options.tailLines) : 0;
    const splitter = new LineSplitter();
    const buf = Buffer.allocUnsafe(256 * 1024);
    let idleSince = Date.now();
    let draining = false;
    for (;;) {
      if (closed) return;
      const n = fs.readSync(fd, buf, 0, buf.length, position);
      if (n > 0) {
        position += n;
        idleSince = Date.now();
        for (const line of splitter.push(buf.subarray(0, n))) {
          const entry = parseLogLine(line);
          const out = entry && renderEntry(entry, options);
          if (out && !write(out)) return;
        }
        continue;
      }
      if (!follow || draining) return;
      // The runtime may have rotated the file: start over on the new one.
      const size = fs.statSync(logPath, { throwIfNoEntry: false })?.size;
      if (size !== undefined && size < position) {
        fs.closeSync(fd);
        fd = fs.openSync(logPath, 'r');
        position = 0;
        continue;
      }
      if (Date.now() - idleSince >= STATUS_EVERY_MS) {
        idleSince = Date.now();
        const now = await cri.containerStatus(container.id).catch(() => undefined);
        // Stopped: what it wrote last is read once more, then the answer ends.
        if (now?.status?.state !== 'CONTAINER_RUNNING') {
          draining = true;
          continue;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    fs.closeSync(fd);
    if (!res.writableEnded && !closed) res.end();
  }
}
