// The node's heartbeat: register the Node (create, or take the one that exists), then keep its status
// current (looked at every 10 s, posted when it changed or once a minute) and renew its Lease in
// kube-node-lease every 10 s, as the kubelet does (leaseDurationSeconds 40, renew at a quarter of it).
import type { Logger } from '../../common/log';
import { runInBackground } from '../../common/background';
import { messageOf } from '../../common/errors';
import { isConflict, isNotFound, KubeApi, KubeObject, microTime, statusCodeOf } from './kube_api';
import { nodeConditionsSchema, readApiObject } from './api_objects';
import { diskPressureAt } from './node_facts';
import { newNode, NodeCondition, nodeConditions, NodeFacts, nodeStatus, RuntimeHealth } from './node_object';

const LEASE_DURATION_S = 40;

export interface HeartbeatOptions {
  api: KubeApi;
  facts: NodeFacts;
  health: () => Promise<RuntimeHealth>;
  /** Whether the node is short of disk; by default the free space of facts.rootDir's filesystem. */
  diskPressure?: () => boolean;
  /** The eviction manager's pressure conditions; when given, they replace diskPressure. */
  pressure?: () => string[];
  log: Logger;
  statusCheckMs?: number;
  statusReportMs?: number;
  leaseRenewMs?: number;
}

const withoutHeartbeat = (conditions: NodeCondition[]) =>
  JSON.stringify(conditions.map((c) => ({ ...c, lastHeartbeatTime: '' })));

export class NodeHeartbeat {
  private nodeUid: string | undefined;
  private lease: KubeObject | undefined;
  private conditions: NodeCondition[] | undefined;
  private lastReportMs = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: HeartbeatOptions) {}

  /** The runtime's health with the node's disk pressure, which the kubelet judges itself. */
  private async health(): Promise<RuntimeHealth> {
    const { diskPressure, facts } = this.options;
    if (this.options.pressure) return { ...(await this.options.health()), pressure: this.options.pressure() };
    const pressure = diskPressure ? diskPressure() : facts.rootDir ? diskPressureAt(facts.rootDir) : false;
    return { ...(await this.options.health()), diskPressure: pressure };
  }

  get uid(): string | undefined {
    return this.nodeUid;
  }

  private get path() {
    return `/api/v1/nodes/${this.options.facts.nodeName}`;
  }

  /** Creates the Node or adopts the existing one, retrying (100 ms doubling to 7 s) until it works. */
  async register(): Promise<string> {
    let delayMs = 100;
    while (!this.stopped) {
      try {
        this.nodeUid = await this.createOrGet();
        this.options.log.info({ uid: this.nodeUid }, 'node registered');
        this.every(this.options.statusCheckMs ?? 10_000, () => this.syncStatus());
        this.every(this.options.leaseRenewMs ?? (LEASE_DURATION_S * 1000) / 4, () => this.renewLease());
        await Promise.all([this.syncStatus(), this.renewLease()]);
        return this.nodeUid;
      } catch (err) {
        this.options.log.warn({ err: messageOf(err), retryMs: delayMs }, 'cannot register the node');
        if (this.stopped) break;
        await new Promise((r) => this.later(delayMs, () => r(undefined)));
        delayMs = Math.min(delayMs * 2, 7000);
      }
    }
    throw new Error('Cannot register the node: the agent is stopping');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void) {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Runs `fn` every `ms` after it finishes (never two at once), until stop(). */
  private every(ms: number, fn: () => Promise<void>) {
    const tick = () => {
      if (this.stopped) return;
      runInBackground(this.options.log, 'node heartbeat', async () => {
        try {
          await fn();
        } finally {
          if (!this.stopped) this.later(ms, tick);
        }
      });
    };
    this.later(ms, tick);
  }

  private async createOrGet(): Promise<string> {
    const health = await this.health();
    this.conditions = nodeConditions(health, undefined);
    try {
      const created = await this.options.api.request('POST', '/api/v1/nodes', {
        body: newNode(this.options.facts, this.conditions),
      });
      this.lastReportMs = Date.now();
      return created.metadata.uid!;
    } catch (err) {
      if (statusCodeOf(err) !== 409) throw err;
      const existing = await this.options.api.request('GET', this.path);
      this.conditions = nodeConditions(
        health,
        readApiObject(nodeConditionsSchema, existing.status?.conditions, "the node's conditions") ??
          undefined,
      );
      this.lastReportMs = 0; // the node's status is an earlier agent's: post ours at once
      return existing.metadata.uid!;
    }
  }

  /** Posts the node's status when a condition changed, or once every report period anyway. */
  async syncStatus(): Promise<void> {
    try {
      const conditions = nodeConditions(await this.health(), this.conditions);
      const changed = withoutHeartbeat(conditions) !== withoutHeartbeat(this.conditions ?? []);
      if (!changed && Date.now() - this.lastReportMs < (this.options.statusReportMs ?? 60_000)) return;
      // Strategic merge: conditions and addresses merge by type, so others' conditions stay.
      await this.options.api.request('PATCH', `${this.path}/status`, {
        body: { status: nodeStatus(this.options.facts, conditions) },
        contentType: 'application/strategic-merge-patch+json',
      });
      if (changed)
        this.options.log.info(
          { conditions: conditions.map((c) => `${c.type}=${c.status}`) },
          'node status changed',
        );
      this.conditions = conditions;
      this.lastReportMs = Date.now();
    } catch (err) {
      if (isNotFound(err) && !this.stopped) {
        // Someone deleted the Node: register it again, as the kubelet does (its Lease goes with it).
        this.options.log.warn('the node was deleted from the API; registering it again');
        this.nodeUid = await this.createOrGet().catch(() => this.nodeUid);
        this.lease = undefined;
        return;
      }
      this.options.log.warn({ err: messageOf(err) }, 'cannot update the node status');
    }
  }

  /** Renews the Lease from the last one seen (PUT keeps its resourceVersion); creates it if missing. */
  async renewLease(): Promise<void> {
    const name = this.options.facts.nodeName;
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    try {
      if (!this.lease) {
        try {
          this.lease = await this.options.api.request('GET', `${leases}/${name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.lease = await this.options.api.request('POST', leases, { body: this.newLease() });
          return;
        }
      }
      const last = this.lease as KubeObject;
      const renewed = { ...last, spec: { ...last.spec, holderIdentity: name, renewTime: microTime() } };
      this.lease = await this.options.api.request('PUT', `${leases}/${name}`, { body: renewed });
    } catch (err) {
      // Someone else wrote it (or it vanished): read it afresh next time.
      this.lease = undefined;
      if (!isConflict(err)) this.options.log.warn({ err: messageOf(err) }, 'cannot renew the node lease');
    }
  }

  private newLease(): KubeObject {
    const name = this.options.facts.nodeName;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: 'kube-node-lease',
        // Owned by the Node, so deleting the Node deletes its Lease (the kubelet's SetNodeOwnerFunc).
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: this.nodeUid }],
      },
      spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_S, renewTime: microTime() },
    };
  }
}
