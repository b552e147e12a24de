// The Node object as admission and eviction need it in connected mode: its labels and taints
// (watched, so a label or NoExecute taint added by an administrator counts for the next pod), the
// pressure taints that follow the node's pressure conditions (node.kubernetes.io/memory-pressure,
// disk-pressure, pid-pressure, NoSchedule: in a cluster the node lifecycle controller adds the same
// ones; the agent keeps them itself so that clusters without that controller see them too), and
// the node's own events (EvictionThresholdMet).
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { NodeView, Taint } from '../admission';
import { isConflict, KubeApi, KubeObject, kubeTime } from './kube_api';
import { listWatch, type ListWatchOptions } from './list_watch';

export const PRESSURE_TAINTS: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
};

/** The node's taints with exactly the pressure taints of `conditions` (others' taints kept, in order). */
export function withPressureTaints(taints: Taint[], conditions: string[]): Taint[] {
  const pressureKeys = new Set(Object.values(PRESSURE_TAINTS));
  const wanted = conditions.map((c) => PRESSURE_TAINTS[c]).filter(Boolean);
  const kept = taints.filter(
    (t) => !(pressureKeys.has(t.key) && t.effect === 'NoSchedule' && !wanted.includes(t.key)),
  );
  const have = new Set(kept.filter((t) => t.effect === 'NoSchedule').map((t) => t.key));
  return [...kept, ...wanted.filter((k) => !have.has(k)).map((key) => ({ key, effect: 'NoSchedule' }))];
}

const taintsOf = (node: KubeObject | undefined): Taint[] => (node?.spec?.taints ?? []) as Taint[];

export class NodePressure {
  private node: KubeObject | undefined;
  private conditions: string[] = [];
  private syncing: Promise<void> = Promise.resolve();
  private readonly watch;

  constructor(
    private readonly api: KubeApi,
    private readonly nodeName: string,
    private readonly log: Logger,
    watch?: ListWatchOptions,
  ) {
    this.watch = listWatch(
      api,
      '/api/v1/nodes',
      {
        onList: (items) => this.seen(items[0]),
        onEvent: (type, object) => this.seen(type === 'DELETED' ? undefined : object),
        onError: (err, retryMs) => log.debug({ err: messageOf(err), retryMs }, 'node watch failed; resuming'),
      },
      { ...watch, query: { fieldSelector: `metadata.name=${nodeName}` } },
    );
  }

  /** Labels and taints of the Node as last seen (undefined before it is). */
  view(): Omit<NodeView, 'name'> | undefined {
    if (!this.node) return undefined;
    return { labels: this.node.metadata.labels ?? {}, taints: taintsOf(this.node) };
  }

  private seen(node: KubeObject | undefined) {
    const first = !this.node && node;
    this.node = node;
    // A node registered (again) after pressure began gets its taints now.
    if (first && this.conditions.length) this.setPressure(this.conditions);
  }

  /** The pressure conditions changed: the taints follow (read, change, write; again on a conflict). */
  setPressure(conditions: string[]): void {
    this.conditions = conditions;
    this.syncing = this.syncing.then(() => this.syncTaints());
  }

  private async syncTaints(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = this.node;
      if (!node) return;
      const taints = withPressureTaints(taintsOf(node), this.conditions);
      if (JSON.stringify(taints) === JSON.stringify(taintsOf(node))) return;
      try {
        // A PUT with the resourceVersion seen: a taint someone added meanwhile is not lost.
        this.node = await this.api.request('PUT', `/api/v1/nodes/${this.nodeName}`, {
          body: { ...node, spec: { ...node.spec, taints } },
        });
        this.log.info({ taints: taints.map((t) => `${t.key}:${t.effect}`) }, 'node taints updated');
        return;
      } catch (err) {
        if (!isConflict(err)) {
          this.log.warn({ err: messageOf(err) }, 'cannot update the node taints');
          return;
        }
        this.node = await this.api.request('GET', `/api/v1/nodes/${this.nodeName}`).catch(() => this.node);
      }
    }
  }

  /** A Warning event on the Node, as the kubelet records its own (best effort). */
  async event(reason: string, message: string, now = new Date()): Promise<void> {
    const name = `${this.nodeName}.${(BigInt(now.getTime()) * 1_000_000n).toString(16)}`;
    try {
      await this.api.request('POST', '/api/v1/namespaces/default/events', {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: 'default' },
          involvedObject: { kind: 'Node', name: this.nodeName, uid: this.nodeName },
          type: 'Warning',
          reason,
          message,
          source: { component: 'kubelet', host: this.nodeName },
          reportingComponent: 'kubelet',
          reportingInstance: this.nodeName,
          firstTimestamp: kubeTime(now),
          lastTimestamp: kubeTime(now),
          eventTime: null,
          count: 1,
        },
      });
    } catch (err) {
      this.log.debug({ err: messageOf(err) }, 'node event not recorded');
    }
  }

  async close(): Promise<void> {
    this.watch.close();
    await this.syncing;
  }
}
