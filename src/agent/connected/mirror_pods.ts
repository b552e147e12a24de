// Mirror pods: each static pod shows in the API as a copy carrying the annotation
// kubernetes.io/config.mirror (= its config hash), owned by the Node (so NodeRestriction lets the node
// create it), named as the static pod (`<name>-<node>`). The keeper reconciles what the manifest
// directory runs with the mirror pods the watch sees: it creates missing ones, replaces stale ones,
// deletes those of removed static pods (and any a user deleted gracefully: a new one follows).
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { DesiredPod } from '../manifest';
import { MIRROR_ANNOTATION } from './api_pod';
import { KubeApi, KubeObject, statusCodeOf } from './kube_api';
import type { PodStatusPoster } from './status_poster';

const key = (namespace: string, name: string) => `${namespace}/${name}`;

function mirrorPodFor(desired: DesiredPod, node: { name: string; uid: string }): KubeObject {
  const pod = desired.pod!;
  const { uid: _uid, ...metadata } = pod.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      name: desired.name,
      namespace: desired.namespace,
      annotations: { ...pod.metadata.annotations, [MIRROR_ANNOTATION]: desired.uid },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: { ...pod.spec, nodeName: node.name },
  };
}

export class MirrorPods {
  /** Mirror pods the watch sees, by namespace/name. */
  private readonly seen = new Map<string, KubeObject>();
  private readonly busy = new Set<string>();
  /** The last creation error said for each mirror pod, so a lasting one is said once. */
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly api: KubeApi,
    private readonly node: () => { name: string; uid: string } | undefined,
    private readonly poster: PodStatusPoster,
    private readonly log: Logger,
  ) {}

  /** From the pod watch: a mirror pod as it is now, or its removal. */
  observe(uid: string, pod: KubeObject | undefined): void {
    if (pod) this.seen.set(key(pod.metadata.namespace ?? 'default', pod.metadata.name), pod);
    else for (const [k, p] of this.seen) if (p.metadata.uid === uid) this.seen.delete(k);
  }

  /** Makes the mirror pods match the static pods that run now. */
  async reconcile(staticPods: DesiredPod[]): Promise<void> {
    const node = this.node();
    if (!node) return;
    const wanted = new Map(staticPods.filter((p) => p.pod).map((p) => [key(p.namespace, p.name), p]));
    const work: Promise<void>[] = [];
    for (const [k, desired] of wanted) {
      const mirror = this.seen.get(k);
      const current = mirror && mirror.metadata.annotations?.[MIRROR_ANNOTATION] === desired.uid;
      if (current && !mirror.metadata.deletionTimestamp) {
        this.poster.track(desired.uid, {
          namespace: desired.namespace,
          name: desired.name,
          uid: mirror.metadata.uid!,
        });
        continue;
      }
      work.push(this.once(k, () => (mirror ? this.remove(mirror) : this.create(desired, node))));
    }
    for (const [k, mirror] of this.seen) {
      if (!wanted.has(k)) work.push(this.once(k, () => this.remove(mirror)));
    }
    await Promise.all(work);
  }

  private async once(k: string, fn: () => Promise<void>): Promise<void> {
    if (this.busy.has(k)) return;
    this.busy.add(k);
    try {
      await fn();
    } finally {
      this.busy.delete(k);
    }
  }

  private async create(desired: DesiredPod, node: { name: string; uid: string }): Promise<void> {
    try {
      const created = await this.api.request('POST', `/api/v1/namespaces/${desired.namespace}/pods`, {
        body: mirrorPodFor(desired, node),
      });
      this.seen.set(key(desired.namespace, desired.name), created);
      this.poster.track(desired.uid, {
        namespace: desired.namespace,
        name: desired.name,
        uid: created.metadata.uid!,
      });
      this.log.info({ pod: key(desired.namespace, desired.name) }, 'mirror pod created');
      this.failures.delete(key(desired.namespace, desired.name));
    } catch (err) {
      // AlreadyExists: the watch will show it and the next round decides. Other failures are
      // retried every round but said once (a missing namespace would repeat every few seconds).
      const k = key(desired.namespace, desired.name);
      if (statusCodeOf(err) !== 409 && this.failures.get(k) !== messageOf(err)) {
        this.failures.set(k, messageOf(err));
        this.log.warn({ pod: k, err: messageOf(err) }, 'cannot create mirror pod');
      }
    }
  }

  private async remove(mirror: KubeObject): Promise<void> {
    const { namespace = 'default', name, uid } = mirror.metadata;
    try {
      await this.api.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
      });
      this.log.info({ pod: key(namespace, name) }, 'mirror pod deleted');
    } catch (err) {
      const code = statusCodeOf(err);
      if (code !== 404 && code !== 409)
        this.log.warn({ pod: key(namespace, name), err: messageOf(err) }, 'cannot delete mirror pod');
    }
    if (this.seen.get(key(namespace, name))?.metadata.uid === uid) this.seen.delete(key(namespace, name));
  }
}
