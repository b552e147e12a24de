// Reads one pod's sandboxes and containers from the runtime by its UID label. Statuses of exited
// containers never change, so they are cached by id and asked for once. Each look is timed for
// kubelet_pleg_relist_duration_seconds, failed ones too (the kubelet times its relist in a defer).
import { performance } from 'node:perf_hooks';
import type { CriRuntime } from './cri_client';
import { POD_UID_LABEL } from './labels';
import { byNewest, ObservedContainer, ObservedPod, observedContainer, observedSandbox } from './observed';
import { terminationMessage } from './termination_message';

export class PodObserver {
  private readonly exited = new Map<string, ObservedContainer>();
  private readonly ipsBySandbox = new Map<string, string[]>();

  constructor(
    private readonly cri: CriRuntime,
    private readonly uid: string,
    private readonly onRelist?: (seconds: number) => void,
  ) {}

  async observe(): Promise<ObservedPod> {
    const startedAt = performance.now();
    try {
      return await this.list();
    } finally {
      this.onRelist?.((performance.now() - startedAt) / 1000);
    }
  }

  private async list(): Promise<ObservedPod> {
    const selector = { label_selector: { [POD_UID_LABEL]: this.uid } };
    const [{ items: pods }, { containers: list }] = await Promise.all([
      this.cri.listPodSandbox({ filter: selector }),
      this.cri.listContainers({ filter: selector }),
    ]);
    const sandboxes = [];
    for (const s of pods) {
      let ips = this.ipsBySandbox.get(s.id);
      if (!ips && s.state === 'SANDBOX_READY') {
        const st = await this.cri.podSandboxStatus(s.id);
        const net = st.status?.network;
        ips = net?.ip ? [net.ip, ...net.additional_ips.map((a) => a.ip)] : [];
        this.ipsBySandbox.set(s.id, ips);
      }
      sandboxes.push(observedSandbox(s, ips ?? []));
    }
    const containers: ObservedContainer[] = [];
    const alive = new Set(list.map((c) => c.id));
    for (const id of this.exited.keys()) if (!alive.has(id)) this.exited.delete(id);
    for (const c of list) {
      const cached = this.exited.get(c.id);
      if (cached) {
        containers.push(cached);
        continue;
      }
      try {
        const { status } = await this.cri.containerStatus(c.id);
        if (!status) continue;
        const o = observedContainer(c.pod_sandbox_id, status);
        if (o.state === 'exited') {
          // Read once: an exited container's termination message file and log no longer change.
          o.message = terminationMessage(status);
          this.exited.set(c.id, o);
        }
        containers.push(o);
      } catch {
        // removed between the list and the status call: the next sync will not see it
      }
    }
    return { sandboxes: sandboxes.sort(byNewest), containers: containers.sort(byNewest) };
  }

  forgetSandbox(id: string): void {
    this.ipsBySandbox.delete(id);
  }
}
