// The Node object as admission and eviction need it in connected mode: its labels and taints
// (watched, so a label or NoExecute taint added by an administrator counts for the next pod), and
// the node's own events (EvictionThresholdMet). The pressure taints (node.kubernetes.io/
// memory-pressure, disk-pressure, pid-pressure, NoSchedule) are the node lifecycle controller's, as
// with the kubelet: the NodeRestriction admission plugin refuses a node that changes its own taints.
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { NodeView, Taint } from '../admission';
import { KubeApi, KubeObject, kubeTime } from './kube_api';
import { listWatch, type ListWatchOptions } from './list_watch';

const taintsOf = (node: KubeObject | undefined): Taint[] => (node?.spec?.taints ?? []) as Taint[];

export class NodePressure {
  private node: KubeObject | undefined;
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
    this.node = node;
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

  close(): void {
    this.watch.close();
  }
}
