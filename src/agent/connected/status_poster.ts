// Posts pod statuses to the API: each pod's newest status, only when it differs from the last one
// posted, one request at a time, retried after a failure. A strategic merge patch of
// pods/<name>/status, as the kubelet's status manager sends, with the pod's UID in it (a pod deleted
// and re-created under the same name refuses it) and the content type set (client-node's default
// would be JSON Patch and the server answers 415, #862). Conditions merge by type, so the ones others
// own (DisruptionTarget, readiness gates) stay as they are: only the kubelet's types are sent.
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import { KUBELET_CONDITIONS, PodStatusView } from '../pod_status';
import { KubeApi, statusCodeOf } from './kube_api';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

const RETRY_MS = 5000;

/** A merge patch removes a field only when told null: fields the old status had and the new lacks. */
export function statusPatch(previous: Record<string, unknown> | undefined, next: Record<string, unknown>) {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}

type Condition = PodStatusView['conditions'][number];

/**
 * The status as a strategic merge patch body: conditions (merged by `type`) only of the kubelet's
 * types, each with null for the reason and message it lacks (a merged element keeps fields it is
 * not told to drop); the IP lists (merged by `ip`) replaced whole, or removed when empty.
 */
export function strategicStatus(
  status: Record<string, unknown>,
  previous?: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...status };
  const conditions = (status.conditions ?? []) as Condition[];
  const ours = (c: Condition) => KUBELET_CONDITIONS.has(c.type) || c.reason === 'TerminationByKubelet';
  // DisruptionTarget is the kubelet's own when it evicted the pod (reason TerminationByKubelet).
  const sent = conditions.filter(ours).map((c) => ({ reason: null, message: null, ...c }));
  // A condition of ours that went away (a resize's, once done) is deleted by its merge key.
  const kept = new Set(sent.map((c) => c.type));
  const gone = ((previous?.conditions ?? []) as Condition[])
    .filter((c) => ours(c) && !kept.has(c.type))
    .map((c) => ({ type: c.type, $patch: 'delete' }));
  out.conditions = [...sent, ...gone];
  for (const key of ['podIPs', 'hostIPs']) {
    const ips = status[key] as { ip: string }[] | undefined;
    if (!ips) continue;
    out[key] = ips.length ? [{ $patch: 'replace' }, ...ips] : null;
  }
  return out;
}

export class PodStatusPoster {
  private readonly targets = new Map<string, PodRef>();
  private readonly latest = new Map<string, Record<string, unknown>>();
  private readonly posted = new Map<string, string>();
  private readonly postedStatus = new Map<string, Record<string, unknown>>();
  private flushing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private again = false;

  constructor(
    private readonly api: KubeApi,
    private readonly log: Logger,
    private readonly options: { retryMs?: number } = {},
  ) {}

  /** Where the status of the pod with `uid` goes (a static pod's goes to its mirror pod). */
  track(uid: string, target: PodRef): void {
    const before = this.targets.get(uid);
    this.targets.set(uid, target);
    if (before?.uid !== target.uid) {
      this.posted.delete(uid);
      this.postedStatus.delete(uid);
      this.kick();
    }
  }

  /** The API object that speaks for the pod with `uid` (events go there too). */
  targetOf(uid: string): PodRef | undefined {
    return this.targets.get(uid);
  }

  forget(uid: string): void {
    this.targets.delete(uid);
    this.latest.delete(uid);
    this.posted.delete(uid);
    this.postedStatus.delete(uid);
  }

  update(uid: string, status: PodStatusView): void {
    // qosClass is the API server's (set at creation, immutable after): never sent back.
    const { qosClass: _qos, ...rest } = status;
    this.latest.set(uid, { ...rest, hostIPs: status.hostIP ? [{ ip: status.hostIP }] : [] });
    this.kick();
  }

  /** Resolves once everything known has been posted (or has failed once). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.flushing) {
      this.again = true; // a status came while posting: look once more when this round ends
      return;
    }
    this.again = false;
    this.flushing = this.postAll().finally(() => {
      this.flushing = undefined;
      if (this.again) this.kick();
    });
  }

  private async postAll(): Promise<void> {
    let failed = false;
    for (;;) {
      const due = [...this.latest].filter(
        ([uid, s]) => this.targets.has(uid) && this.posted.get(uid) !== JSON.stringify(s),
      );
      if (due.length === 0 || this.stopped) break;
      let progressed = false;
      for (const [uid, status] of due) {
        if (await this.post(uid, status)) progressed = true;
        else failed = true;
      }
      if (!progressed) break;
    }
    if (failed && !this.stopped) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.kick(), this.options.retryMs ?? RETRY_MS);
    }
  }

  private async post(uid: string, status: Record<string, unknown>): Promise<boolean> {
    const target = this.targets.get(uid)!;
    const text = JSON.stringify(status);
    try {
      await this.api.request('PATCH', `/api/v1/namespaces/${target.namespace}/pods/${target.name}/status`, {
        body: {
          metadata: { uid: target.uid },
          status: strategicStatus(
            statusPatch(this.postedStatus.get(uid), status),
            this.postedStatus.get(uid),
          ),
        },
        contentType: 'application/strategic-merge-patch+json',
      });
      this.posted.set(uid, text);
      this.postedStatus.set(uid, status);
      return true;
    } catch (err) {
      const code = statusCodeOf(err);
      if (code === 404 || code === 409 || code === 422) {
        // The pod is gone, is another pod now, or refuses this status: posting it again cannot help.
        this.log[code === 422 ? 'warn' : 'info'](
          { pod: `${target.namespace}/${target.name}`, err: messageOf(err) },
          'pod status not posted',
        );
        this.posted.set(uid, text);
        return true;
      }
      this.log.warn(
        { pod: `${target.namespace}/${target.name}`, err: messageOf(err) },
        'cannot post pod status',
      );
      return false;
    }
  }
}
