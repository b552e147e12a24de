// POST /checkpoint/<namespace>/<pod>/<container>: the kubelet's forensic container checkpoint
// (pkg/kubelet/server: checkpoint). The runtime writes the archive, with the kubelet's name, under
// <rootDir>/checkpoints/; the answer lists it: {"items": ["<path>"]}. `timeout` (seconds, query)
// is handed to the runtime.
import fs from 'node:fs';
import path from 'node:path';
import type { KubeletApiCri } from './cri';
import { HttpError } from './http_reply';
import { findContainer, type PodRef } from './resolve';

/** The kubelet's default when the request names no timeout: its runtime request timeout, 2 minutes. */
const DEFAULT_TIMEOUT_S = 120;

export async function checkpointContainer(
  cri: KubeletApiCri,
  rootDir: string,
  pod: PodRef,
  container: string,
  query: URLSearchParams,
  now: Date = new Date(),
): Promise<{ items: string[] }> {
  const raw = query.get('timeout');
  const timeout = raw === null || raw === '' ? DEFAULT_TIMEOUT_S : Number(raw);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new HttpError(400, `Cannot checkpoint: timeout '${raw}' is not a whole number of seconds above 0`);
  }
  const found = await findContainer(cri, pod, container);
  const dir = path.join(rootDir, 'checkpoints');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The kubelet's name: checkpoint-<pod>_<namespace>-<container>-<RFC 3339 time>.tar
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const location = path.join(dir, `checkpoint-${pod.name}_${pod.namespace}-${container}-${stamp}.tar`);
  try {
    await cri.checkpointContainer(found.id, location, timeout);
  } catch (err) {
    throw new HttpError(
      500,
      `checkpointing of ${pod.namespace}/${pod.name}/${container} failed (${(err as Error).message})`,
    );
  }
  return { items: [location] };
}
