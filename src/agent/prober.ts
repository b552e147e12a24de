// The probes of one running container: startup first (it gates the others), then liveness and
// readiness, each on its own period with the thresholds of the spec. Results are kept here and read by
// the pod worker (readiness for status, a liveness or startup failure makes it kill the container).
// Every probe run is counted and timed for /metrics/probes under the pod's identity, which the
// prober reads once from the container's kubelet labels in the runtime.
import { performance } from 'node:perf_hooks';
import type { CriRuntime } from './cri_client';
import type { Logger } from '../common/log';
import { runInBackground } from '../common/background';
import { messageOf } from '../common/errors';
import { POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from './labels';
import { proberMetrics, type ProbeMetrics, type ProbeSeries, type ProbeType } from './metrics';
import type { ObservedPod } from './observed';
import type { Container, Probe } from './pod_spec';
import { runCheck } from './probe_check';

export interface ProbeResults {
  started: boolean;
  ready: boolean;
  /** A liveness or startup probe reached its failure threshold: the container must be restarted. */
  unhealthy: boolean;
  /** Which probe made it unhealthy (its terminationGracePeriodSeconds applies to the kill). */
  failedProbe?: 'liveness' | 'startup';
}

type Kind = 'startup' | 'liveness' | 'readiness';

const PROBE_TYPE: Record<Kind, ProbeType> = {
  startup: 'Startup',
  liveness: 'Liveness',
  readiness: 'Readiness',
};

export interface ProberOptions {
  log: Logger;
  onChange: () => void;
  /** Where probe runs are counted; the agent's one set (served on /metrics/probes) when absent. */
  metrics?: ProbeMetrics;
  /** Whose containers these are; when absent it is read from the runtime's labels. */
  pod?: PodIdentity;
  /** Told of each failed probe run, in the kubelet's words (`Liveness probe failed: …`). */
  onUnhealthy?: (container: string, message: string) => void;
}

export type PodIdentity = Pick<ProbeSeries, 'pod' | 'namespace' | 'podUid'>;

/** Whose container it is, from the labels the agent gave it; undefined when it has none. */
async function podOfContainer(cri: CriRuntime, containerId: string): Promise<PodIdentity | undefined> {
  const labels = (await cri.containerStatus(containerId)).status?.labels ?? {};
  const uid = labels[POD_UID_LABEL];
  if (!uid) return undefined;
  return { podUid: uid, pod: labels[POD_NAME_LABEL] ?? '', namespace: labels[POD_NAMESPACE_LABEL] ?? '' };
}

export class ContainerProber {
  readonly results: ProbeResults;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** The pod's identity for the metric labels, asked of the runtime once (again after a failure). */
  private identity: Promise<PodIdentity | undefined> | undefined;

  constructor(
    private readonly cri: CriRuntime,
    private readonly container: Container,
    private readonly target: { containerId: string; podIP: string },
    private readonly options: ProberOptions,
  ) {
    this.results = {
      started: !container.startupProbe,
      ready: !container.readinessProbe,
      unhealthy: false,
    };
    if (container.startupProbe) this.schedule('startup', container.startupProbe);
    else this.startOthers();
  }

  private startOthers(): void {
    if (this.container.livenessProbe) this.schedule('liveness', this.container.livenessProbe);
    if (this.container.readinessProbe) this.schedule('readiness', this.container.readinessProbe);
  }

  private schedule(kind: Kind, probe: Probe): void {
    let successes = 0;
    let failures = 0;
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const tick = async () => {
      if (this.stopped) return;
      const startedAt = performance.now();
      const result = await runCheck(
        this.cri,
        probe,
        { ...this.target, container: this.container },
        probe.timeoutSeconds ?? 1,
      );
      const seconds = (performance.now() - startedAt) / 1000;
      if (this.stopped) return;
      // Counted on the side: a slow runtime answering the label lookup must not hold up the verdict.
      runInBackground(this.options.log, `count a ${kind} probe`, this.count(kind, result.ok, seconds));
      if (result.ok) {
        successes++;
        failures = 0;
      } else {
        failures++;
        successes = 0;
        this.options.log.info(
          { container: this.container.name, probe: kind, message: result.message },
          'probe failed',
        );
        const output = result.output ?? result.message;
        this.options.onUnhealthy?.(this.container.name, `${PROBE_TYPE[kind]} probe failed: ${output}`);
      }
      const successThreshold = kind === 'readiness' ? (probe.successThreshold ?? 1) : 1;
      const failureThreshold = probe.failureThreshold ?? 3;
      if (this.apply(kind, successes >= successThreshold, failures >= failureThreshold)) return;
      this.later(run, periodMs);
    };
    const run = () => runInBackground(this.options.log, `run a ${kind} probe`, tick);
    this.later(run, (probe.initialDelaySeconds ?? 0) * 1000);
  }

  /** One probe run for prober_probe_total and prober_probe_duration_seconds. */
  private async count(kind: Kind, ok: boolean, seconds: number): Promise<void> {
    if (this.options.pod) this.identity ??= Promise.resolve(this.options.pod);
    this.identity ??= podOfContainer(this.cri, this.target.containerId).catch((err) => {
      this.identity = undefined;
      this.options.log.debug({ err: messageOf(err) }, 'cannot read the container labels for probe metrics');
      return undefined;
    });
    const pod = await this.identity;
    if (!pod || this.stopped) return;
    const metrics = this.options.metrics ?? proberMetrics;
    const series = { ...pod, container: this.container.name, probeType: PROBE_TYPE[kind] };
    metrics.record(series, ok ? 'successful' : 'failed', seconds);
  }

  /** Records a probe's verdict; true when this probe stops (startup succeeded, or the container is unhealthy). */
  private apply(kind: Kind, succeeded: boolean, failed: boolean): boolean {
    const before = { ...this.results };
    if (kind === 'startup') {
      if (succeeded) {
        this.results.started = true;
        this.startOthers();
      } else if (failed) this.fail('startup');
    } else if (kind === 'liveness') {
      if (failed) this.fail('liveness');
    } else if (succeeded) this.results.ready = true;
    else if (failed) this.results.ready = false;
    const changed = JSON.stringify(before) !== JSON.stringify(this.results);
    if (changed) this.options.onChange();
    return (kind === 'startup' && succeeded) || this.results.unhealthy;
  }

  private fail(probe: 'liveness' | 'startup'): void {
    this.results.unhealthy = true;
    this.results.failedProbe = probe;
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** One prober per running container of the pod's current sandbox: new ones start, gone ones stop. */
export function syncProbers(
  probers: Map<string, ContainerProber>,
  cri: CriRuntime,
  containers: Container[],
  observed: ObservedPod,
  options: ProberOptions,
): void {
  const sandbox = observed.sandboxes[0];
  const running = observed.containers.filter((c) => c.state === 'running' && c.sandboxId === sandbox?.id);
  const ids = new Set(running.map((c) => c.id));
  for (const [id, p] of probers) {
    if (!ids.has(id)) {
      p.stop();
      probers.delete(id);
    }
  }
  for (const c of running) {
    const spec = containers.find((s) => s.name === c.name);
    if (!spec || probers.has(c.id)) continue;
    probers.set(
      c.id,
      new ContainerProber(cri, spec, { containerId: c.id, podIP: sandbox.ips[0] ?? '' }, options),
    );
  }
}
