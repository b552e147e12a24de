// GET /containerLogs/{namespace}/{pod}/{container}: the container's CRI log files as plain output,
// with the PodLogOptions the API server forwards (follow, previous, tailLines, sinceSeconds,
// sinceTime, timestamps, limitBytes, stream), read across rotation by log_reader.ts. Follow waits for
// more until the container stops or the client goes away, as the kubelet's ReadLogs does.
import type http from 'node:http';
import { containerLogFiles } from '../logs';
import type { KubeletApiCri } from './cri';
import type { LogFilter } from './cri_log';
import { readContainerLog } from './log_reader';
import { badRequest, notFoundError } from './http_reply';
import { findContainer, type PodRef } from './resolve';

export interface LogOptions extends LogFilter {
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
}

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
  // The live file, or only rotated ones (between a rotation's rename and the runtime's reopen).
  if (!logPath || (await containerLogFiles(logPath)).length === 0)
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

  try {
    const running = async () =>
      (await cri.containerStatus(container.id)).status?.state === 'CONTAINER_RUNNING';
    await readContainerLog(logPath, { ...options, follow }, { write, closed: () => closed }, running);
  } finally {
    if (!res.writableEnded && !closed) res.end();
  }
}
