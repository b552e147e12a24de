// What a kubelet test looks at: the kubelet's own API (its view of the pods), crictl against nodelet
// (what the runtime really has), the kubelet's log (CRI errors), and a patient wait.
import https from 'node:https';
import { crictlFor } from '../../support/crictl';
import type { ToolResult } from '../../support/tools';

export interface ContainerStatus {
  name: string;
  restartCount: number;
  ready: boolean;
  state: Record<string, { reason?: string; exitCode?: number }>;
  lastState?: Record<string, { reason?: string; exitCode?: number }>;
}
export interface PodStatus {
  phase?: string;
  podIP?: string;
  hostIP?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
}
export interface Pod {
  metadata: { name: string; namespace: string; uid: string };
  status: PodStatus;
}

/** GET on the kubelet API (self-signed serving certificate, anonymous in standalone mode). */
export function kubeletGet<T>(address: string, port: number, urlPath: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: address, port, path: urlPath, rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`GET ${urlPath}: ${res.statusCode} ${body}`));
          resolve(JSON.parse(body) as T);
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: timed out`)));
  });
}

/** The kubelet's pods with their status, by pod name. */
export async function kubeletPods(address: string, port: number): Promise<Map<string, Pod>> {
  const list = await kubeletGet<{ items: Pod[] }>(address, port, '/pods');
  return new Map(list.items.map((p) => [p.metadata.name, p]));
}

export function crictl(endpoint: string, ...args: string[]): ToolResult {
  return crictlFor(endpoint).run(args, { timeoutMs: 30_000 });
}

/** Polls until probe returns a value (not undefined/false); a probe that throws is retried. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 90_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until)
      throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The kubelet's error lines about the runtime (klog `E` lines from its CRI client or naming an
 * rpc error), grouped by message with the variable parts (ids, times) taken out. Left out: NotFound
 * from ContainerStatus on a container the kubelet had already removed itself — its pod container
 * deletor queues the same dead container twice (pod_container_deletor.go then logs "DeleteContainer
 * returned error"), whatever the runtime.
 */
export function criErrors(kubeletLog: string): Map<string, number> {
  const counts = new Map<string, number>();
  const removed = new Set<string>();
  for (const line of kubeletLog.split('\n')) {
    const removal = /"RemoveContainer" containerID="([0-9a-f]+)"/.exec(line);
    if (removal) removed.add(removal[1]);
    if (!/^E\d{4} /.test(line)) continue;
    if (!/rpc error|remote_runtime|remote_image|CRI|runtime service/i.test(line)) continue;
    const notFound =
      /ContainerStatus from runtime service failed.*code = NotFound.*containerID="([0-9a-f]+)"/.exec(line);
    if (notFound && removed.has(notFound[1])) continue;
    const key = line
      .replace(/^E\d{4} [\d:.]+\s+\d+ /, '')
      .replace(/[0-9a-f]{32,64}/g, '<id>')
      .replace(/\d+/g, 'N');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
