// Pod events in the API (what `kubectl describe pod` lists), as the kubelet records them: a core/v1
// Event per new occurrence, and a repeat of the same event within ten minutes counted on the first
// one (count, lastTimestamp) instead of a new object. Events are best effort: a failure is logged
// at debug level and dropped, never retried, never in the way of the pod.
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { PodEvent } from '../pod_worker';
import { KubeApi, kubeTime } from './kube_api';
import type { PodRef } from './status_poster';

const REPEAT_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 1000;

interface Seen {
  name: string;
  count: number;
  atMs: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly api: KubeApi,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  record(pod: PodRef, event: PodEvent, now = new Date()): Promise<void> {
    const key = JSON.stringify([pod.uid, event.type, event.reason, event.message, event.container]);
    const before = this.seen.get(key);
    const path = `/api/v1/namespaces/${pod.namespace}/events`;
    if (before && now.getTime() - before.atMs < REPEAT_WINDOW_MS) {
      before.count++;
      before.atMs = now.getTime();
      return this.send('PATCH', `${path}/${before.name}`, {
        body: { count: before.count, lastTimestamp: kubeTime(now) },
        contentType: 'application/merge-patch+json',
      });
    }
    // The kubelet's naming: the pod's name and the time in hex nanoseconds.
    const name = `${pod.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(this.seen.size)).toString(16)}`;
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { name, count: 1, atMs: now.getTime() });
    return this.send('POST', path, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: pod.namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: pod.name,
          namespace: pod.namespace,
          uid: pod.uid,
          ...(event.container ? { fieldPath: event.fieldPath ?? `spec.containers{${event.container}}` } : {}),
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        source: { component: 'kubelet', host: this.nodeName },
        reportingComponent: 'kubelet',
        reportingInstance: this.nodeName,
        firstTimestamp: kubeTime(now),
        lastTimestamp: kubeTime(now),
        eventTime: null,
        count: 1,
      },
    });
  }

  private async send(method: string, path: string, options: { body: unknown; contentType?: string }) {
    try {
      await this.api.request(method, path, options);
    } catch (err) {
      this.log.debug({ err: messageOf(err), path }, 'event not recorded');
    }
  }
}
