// One worker per pod: a loop that observes the pod in the runtime, decides (pod_actions.ts), acts,
// collects garbage, runs the probes and publishes the status. It holds no state that matters across
// agent restarts: a new worker picks up a running pod as it is, restarting nothing.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../common/log';
import { messageOf } from '../common/errors';
import type { Backoff } from './backoff';
import { ContainerConfigError } from './container_config_error';
import type { PodCgroups } from './cgroups';
import type { CriRuntime } from './cri_client';
import {
  containerConfig,
  DEFAULT_GRACE_PERIOD_S,
  podLogDirectory,
  sandboxConfig,
  type SandboxContext,
} from './cri_config';
import { envMap, resolveEnv, type PodRuntimeFacts } from './env';
import { withObservedGeneration } from './observed_generation';
import { collectGarbage } from './gc';
import { ephemeralToStart, withTargetNamespace } from './ephemeral';
import { ensureImage, ImageEventSink, ImagePullError, imageVolumesOf } from './images';
import type { DesiredPod, VolumeFile } from './manifest';
import type { PodLoopMetrics, PodWorkerOperation } from './metrics';
import { latestByName, type ObservedContainer, type ObservedPod } from './observed';
import { computePodActions, KillAction, PodActions, podRef, ProbeFailure, StartAction } from './pod_actions';
import { killPod, stopContainerGracefully } from './pod_kill';
import { PodObserver } from './pod_observe';
import { PodResizer } from './pod_resizer';
import type { ResizeRejection } from './admission';
import { podOsRejection } from './pod_os';
import type { Container, Pod } from './pod_spec';
import type { DnsSettings } from './pod_dns';
import { containerHostsMounts } from './pod_hosts';
import { podServiceEnv, type ServiceEnvSource } from './service_env';
import {
  podStatus,
  PodCondition,
  PodStatusView,
  readStatusFile,
  rejectedStatus,
  writePodStatusFile,
} from './pod_status';
import { runCheck } from './probe_check';
import { runtimeHandlerOf, type RuntimeClassSource } from './runtime_class';
import { needsImageUser, verifyRunAsNonRoot } from './run_as_non_root';
import { SysctlAdmission, SYSCTL_FORBIDDEN_REASON } from './sysctl_admission';
import { ContainerProber, syncProbers } from './prober';
import { CgroupDriver, podCgroupParent, qosClass, QosClass } from './qos';
import { isSidecar, sidecarNames } from './sidecar';
import { terminationMessageMount } from './termination_message';
import type { UserNamespaceAllocator } from './userns_allocator';
import {
  containerMounts,
  podDir,
  prepareVolumes,
  refreshApiVolumes,
  refreshDownwardApiVolumes,
  PreparedVolume,
  removePodDir,
  VolumeMounter,
} from './volumes';

const SYNC_ERROR_RETRY_MS = 5000;
/** The kubelet's activeDeadlineHandler: the reason and message of a pod that ran too long. */
const DEADLINE_EXCEEDED = {
  reason: 'DeadlineExceeded',
  message: 'Pod was active on the node longer than the specified deadline',
};

export interface NodeContext {
  cri: CriRuntime;
  log: Logger;
  rootDir: string;
  podLogsDir: string;
  nodeName: string;
  hostIP: string;
  runtimeName: string;
  cgroupDriver: CgroupDriver;
  cgroupRoot: string;
  mounter: VolumeMounter;
  backoff: Backoff;
  nodeCpuCores: number;
  nodeMemoryBytes: number;
  /** Write <root-dir>/pods/<uid>/status.json (standalone mode). */
  writeStatusFiles: boolean;
  /** How often a pod is looked at when nothing wakes its worker (the kubelet's PLEG relists every 1 s). */
  syncIntervalMs: number;
  /** Told every status that differs from the last one (connected mode posts it to the API). */
  onStatus?: (pod: DesiredPod, status: PodStatusView) => void;
  /** Told what happened to the pod, as the kubelet's events (connected mode records them). */
  onEvent?: (pod: DesiredPod, event: PodEvent) => void;
  /** Told how long each sync and each look at the runtime took (the agent's /metrics). */
  metrics?: PodLoopMetrics;
  /** Which sysctls a pod may ask for (the kubelet's sysctl admission). */
  sysctls: SysctlAdmission;
  /** --cluster-dns, --cluster-domain, --resolv-conf (the host's resolver when absent). */
  dns?: DnsSettings;
  /** The Services, for the containers' Service variables (connected mode). */
  services?: ServiceEnvSource;
  /** Host id ranges for hostUsers: false pods, kept in their pod directories. */
  userNamespaces: UserNamespaceAllocator;
  /** The RuntimeClass objects (connected mode); without them runtimeClassName is not looked up. */
  runtimeClasses?: RuntimeClassSource;
  /** The pod, QoS and node-level cgroups (cgroupfs driver); absent when the agent does not manage them. */
  podCgroups?: PodCgroups;
  /** The node's admission (resources, affinity, taints, pressure): a reason to reject the pod, or none. */
  admit?: (pod: DesiredPod) => { reason: string; message: string } | undefined;
  /** Admission of a resize of an admitted pod (`resized` has the new resources); none: it fits. */
  admitResize?: (pod: DesiredPod, resized: Pod) => ResizeRejection | undefined;
}

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The container it concerns (the event's involvedObject.fieldPath). */
  container?: string;
  /** Where that container is in the spec (`spec.initContainers{name}`); spec.containers when absent. */
  fieldPath?: string;
}

/** What the runtime shows of a pod before anything is asked: enough for volume-level facts. */
const NOTHING_OBSERVED: ObservedPod = { sandboxes: [], containers: [] };

export class PodWorker {
  status: PodStatusView | undefined;
  private readonly observer: PodObserver;
  /** The pod spec the last sync worked from (its generation is the status's observedGeneration). */
  private syncedSpec: Pod | undefined;
  private readonly resizer: PodResizer;
  private readonly probers = new Map<string, ContainerProber>();
  private readonly imageBlocked = new Map<
    string,
    { reason: string; message: string; untilMs: number; evented?: boolean }
  >();
  /** The exited container each back-off was last told of (one BackOff event per back-off). */
  private readonly backOffEvented = new Map<string, string>();
  /** Why the node ended the pod for good (its activeDeadlineSeconds passed). */
  private ended: { reason: string; message: string } | undefined;
  private readonly errors = new Map<string, { reason: string; message: string }>();
  private readonly log: Logger;
  private readonly qos: QosClass | undefined;
  private readonly startTime: string;
  private readonly restored: PodStatusView | undefined;
  private sandboxError: { reason: string; message: string } | undefined;
  private volumes: Map<string, PreparedVolume> | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private current: DesiredPod;
  /** What the next sync is, in the kubelet's words: the first is 'create', the first after a spec change 'update'. */
  private nextOperation: PodWorkerOperation = 'create';

  constructor(
    desired: DesiredPod,
    private readonly node: NodeContext,
  ) {
    this.current = desired;
    this.observer = new PodObserver(node.cri, desired.uid, (s) => node.metrics?.observeRelist(s));
    this.log = node.log.child({ pod: `${desired.namespace}/${desired.name}`, uid: desired.uid });
    this.qos = desired.pod ? qosClass(desired.pod) : undefined;
    // A restarted agent continues the status it wrote (start time, condition transition times).
    // It is not shown as the status: only the runtime says what runs now.
    this.restored = readStatusFile(this.dir);
    this.resizer = new PodResizer(this.dir, this.log, (type, reason, message) =>
      this.event(type, reason, message),
    );
    this.startTime = this.restored?.startTime ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  get dir(): string {
    return podDir(this.node.rootDir, this.desired.uid);
  }

  /** The pod with the resources the node allocated to it (a resize waiting for admission is not in it). */
  get allocatedPod(): Pod | undefined {
    return this.current.pod && this.resizer.allocatedPod(this.current.pod);
  }

  /** The pod as its source wants it now (a spec update replaces it; see update()). */
  get desired(): DesiredPod {
    return this.current;
  }

  /**
   * The source changed the pod's spec (an API pod's image, say): containers whose spec hash changed
   * are restarted by the next sync, as the kubelet does. A spec that cannot run is not taken.
   */
  update(desired: DesiredPod): void {
    if (desired.error || !desired.pod || !this.current.pod) {
      this.log.warn({ err: desired.error }, 'pod spec update not taken: it cannot run');
      return;
    }
    // The API volumes' files were read when the pod arrived; a spec update does not read them again.
    this.current = {
      ...desired,
      conditions: desired.conditions ?? this.current.conditions,
      apiVolumes: desired.apiVolumes ?? this.current.apiVolumes,
      apiEnv: desired.apiEnv ?? this.current.apiEnv,
      apiPullAuths: desired.apiPullAuths ?? this.current.apiPullAuths,
    };
    if (this.nextOperation === 'sync') this.nextOperation = 'update';
    // Labels and annotations may change on a running pod: its downwardAPI files follow.
    this.rewriteVolumes((pod) => refreshDownwardApiVolumes(pod, this.dir, this.facts(NOTHING_OBSERVED)));
    this.wake();
  }

  /** Conditions others set on the pod changed (a readiness gate, say): the status follows. */
  setConditions(conditions: PodCondition[]): void {
    this.current = { ...this.current, conditions };
    this.wake();
  }

  /**
   * Newly read configMap, secret and projected volume files (some or all of the pod's volumes): what changed is swapped into the
   * volumes of the running pod; a pod not started yet writes them when it starts.
   */
  refreshVolumes(apiVolumes: Record<string, VolumeFile[]>): void {
    // Merged: a volume that could not be read this time keeps what it had.
    apiVolumes = { ...this.current.apiVolumes, ...apiVolumes };
    this.current = { ...this.current, apiVolumes };
    this.rewriteVolumes((pod) =>
      refreshApiVolumes(pod, this.dir, apiVolumes, this.node.mounter, this.facts(NOTHING_OBSERVED)),
    );
  }

  /**
   * Rewrites volumes of the running pod with `write`, which returns the names it changed. Not gated
   * on this.volumes: after an agent restart a running pod has its volumes but never prepared them.
   */
  private rewriteVolumes(write: (pod: Pod) => string[]): void {
    if (this.stopped || !this.current.pod) return;
    try {
      const changed = write(this.current.pod);
      if (changed.length) this.log.info({ volumes: changed }, 'volume contents updated');
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'cannot update the volume contents; keeping the old ones');
    }
  }

  start(): void {
    if (this.desired.error || !this.desired.pod) {
      this.log.error({ err: this.desired.error }, 'pod cannot run');
      this.event('Warning', 'Failed', this.desired.error ?? 'invalid manifest');
      this.publish(rejectedStatus(this.desired.error ?? 'invalid manifest', this.node.hostIP));
      return;
    }
    // Admission, as the kubelet's admit handlers: a pod refused by one never gets a sandbox; the event
    // says why, the status adds "Pod was rejected: " (the kubelet's rejectPod).
    const forbidden = this.node.sysctls.check(this.desired.pod);
    const rejection =
      (forbidden ? { reason: SYSCTL_FORBIDDEN_REASON, message: forbidden } : undefined) ??
      podOsRejection(this.desired.pod) ??
      this.node.admit?.({ ...this.desired, pod: this.resizer.allocatedPod(this.desired.pod) });
    if (rejection) {
      this.log.warn(rejection, 'pod rejected');
      this.event('Warning', rejection.reason, rejection.message);
      this.publish(
        rejectedStatus(`Pod was rejected: ${rejection.message}`, this.node.hostIP, rejection.reason),
      );
      return;
    }
    this.resizer.admitted(this.desired.pod);
    this.loop = (async () => {
      while (!this.stopped) {
        let requeueMs = this.node.syncIntervalMs;
        const operation = this.nextOperation;
        this.nextOperation = 'sync';
        const startedAt = performance.now();
        try {
          const actions = await this.sync(this.desired.pod!);
          if (actions.requeueMs !== undefined) requeueMs = Math.min(requeueMs, actions.requeueMs + 10);
        } catch (err) {
          this.log.warn({ err: messageOf(err) }, 'pod sync failed');
          // The runtime refused or is away: do not hammer it, look again a little later.
          requeueMs = Math.max(requeueMs, SYNC_ERROR_RETRY_MS);
        } finally {
          // Failed syncs count too, as in the kubelet's pod worker loop.
          this.node.metrics?.observePodWorker(operation, (performance.now() - startedAt) / 1000);
        }
        if (this.stopped) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, requeueMs);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = undefined;
      }
    })();
  }

  wake(): void {
    this.wakeUp?.();
  }

  /**
   * The node evicts the pod (the kubelet's evictPod): its containers are stopped, it ends Failed with
   * reason Evicted and the message, and a DisruptionTarget condition says the kubelet ended it.
   */
  evict(message: string): void {
    if (this.ended) return;
    this.ended = { reason: 'Evicted', message };
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const others = (this.current.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
    const disruption: PodCondition = {
      type: 'DisruptionTarget',
      status: 'True',
      lastTransitionTime: now,
      reason: 'TerminationByKubelet',
      message,
    };
    this.current = { ...this.current, conditions: [...others, disruption] };
    this.log.info({ message }, 'evicting the pod');
    this.event('Warning', 'Evicted', message);
    this.wake();
  }

  /** Stops the loop and the probes but leaves the pod running (the agent is shutting down). */
  async detach(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    for (const p of this.probers.values()) p.stop();
    this.probers.clear();
  }

  /**
   * The pod was removed: stop it within its grace period (the spec's, or the one its deletion asked
   * for) and delete it with everything it had.
   */
  async terminate(graceOverrideS?: number): Promise<void> {
    await this.detach();
    const startedAt = performance.now();
    try {
      await this.kill(graceOverrideS);
    } finally {
      this.node.metrics?.observePodWorker('kill', (performance.now() - startedAt) / 1000);
    }
  }

  private async kill(graceOverrideS: number | undefined): Promise<void> {
    const pod = this.desired.pod;
    const graceS = graceOverrideS ?? pod?.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_S;
    const specs = new Map(
      [...(pod?.spec.initContainers ?? []), ...(pod?.spec.containers ?? [])].map((c) => [c.name, c]),
    );
    const podIP = this.status?.podIP ?? '';
    const target = { uid: this.desired.uid };
    await killPod(this.node.cri, this.log, target, {
      graceS,
      specs,
      podIP,
      remove: false,
      ...this.killOptions(),
    });
    // The kubelet writes a terminal phase before it deletes the pod: a Job's pod keeps its finalizer
    // (and so its API object) until the Job controller has seen it end.
    if (pod)
      await this.publishTerminalStatus(pod).catch((err) =>
        this.log.warn({ err: messageOf(err) }, 'cannot read the final status'),
      );
    await killPod(this.node.cri, this.log, target, { graceS: 0, specs, podIP, remove: true });
    removePodDir(this.dir, this.node.mounter);
    this.node.userNamespaces.release(this.desired.uid);
    if (pod) {
      fs.rmSync(podLogDirectory(this.node.podLogsDir, pod), { recursive: true, force: true });
      // The kubelet owns the pod cgroup (the runtime removes only its containers' own cgroups).
      if (this.qos) {
        await this.node.podCgroups
          ?.removePod(this.desired.uid, this.qos)
          .catch((err) => this.log.warn({ err: messageOf(err) }, 'cannot remove the pod cgroup'));
      }
    }
    this.log.info('pod removed');
  }

  /** The status of the pod once every container of it has stopped: Succeeded or Failed. */
  private async publishTerminalStatus(pod: Pod): Promise<void> {
    if (!this.qos) return; // never synced: there is nothing of it to report
    this.syncedSpec = pod;
    const observed = await this.observer.observe();
    this.publish(
      podStatus({
        pod,
        observed,
        qos: this.qos,
        hostIP: this.node.hostIP,
        runtimeName: this.node.runtimeName,
        startTime: this.startTime,
        waiting: new Map(),
        probes: () => ({ started: false, ready: false }),
        previous: this.status ?? this.restored,
        terminal: true,
        otherConditions: this.desired.conditions,
        ended: this.ended,
      }),
    );
  }

  /** Sidecars stop last, and each container stopped is a Killing event. */
  private killOptions() {
    const pod = this.desired.pod;
    return {
      sidecars: pod ? sidecarNames(pod) : [],
      onKilling: (name: string) => this.event('Normal', 'Killing', `Stopping container ${name}`, name),
    };
  }

  private cgroupOptions() {
    return { driver: this.node.cgroupDriver, cgroupRoot: this.node.cgroupRoot };
  }

  private sandboxContext(pod: Pod, onDnsWarning?: SandboxContext['onDnsWarning']): SandboxContext {
    return {
      podLogsDir: this.node.podLogsDir,
      cgroupParent: podCgroupParent(pod.metadata.uid!, this.qos!, this.cgroupOptions()),
      nodeName: this.node.nodeName,
      seccompDir: this.seccompDir(),
      dns: this.node.dns,
      onDnsWarning,
      userNamespace: this.userNamespace(pod),
    };
  }

  /** The pod's host id range when it has a user namespace (taken when its sandbox is first made). */
  private userNamespace(pod: Pod) {
    return pod.spec.hostUsers === false ? this.node.userNamespaces.podRange(this.desired.uid) : undefined;
  }

  private seccompDir(): string {
    return path.join(this.node.rootDir, 'seccomp');
  }

  private facts(observed: ObservedPod): PodRuntimeFacts {
    return {
      nodeName: this.node.nodeName,
      hostIP: this.node.hostIP,
      podIPs: observed.sandboxes[0]?.ips ?? [],
      nodeCpuCores: this.node.nodeCpuCores,
      nodeMemoryBytes: this.node.nodeMemoryBytes,
      apiEnv: this.desired.apiEnv,
    };
  }

  private async sync(specPod: Pod): Promise<PodActions> {
    // A resize runs once the node admits it; until then the pod runs with what it was allocated.
    const pod = this.resizer.allocate(specPod, (resized) => this.node.admitResize?.(this.desired, resized));
    this.syncedSpec = specPod;
    let observed = await this.observer.observe();
    const now = Date.now();
    const blocked = new Map(
      [...this.imageBlocked]
        .filter(([, b]) => b.untilMs > now)
        .map(([k, b]) => [k, { ...b, reason: 'ImagePullBackOff' }]),
    );
    this.announceImageBackOff(pod);
    const unhealthy = new Map<string, ProbeFailure>();
    const started = new Set<string>();
    for (const [id, p] of this.probers) {
      if (p.results.unhealthy) unhealthy.set(id, p.results.failedProbe ?? 'liveness');
      if (p.results.started) started.add(id);
    }
    const deadlineInMs = this.checkDeadline(pod);
    const actions = computePodActions(pod, observed, {
      backoff: this.node.backoff,
      unhealthy,
      started,
      imageBlocked: blocked,
      deadlineExceeded: this.ended !== undefined,
    });
    if (deadlineInMs !== undefined) actions.requeueMs = Math.min(actions.requeueMs ?? Infinity, deadlineInMs);
    const resize = this.planResize(pod, observed, actions);
    this.announceBackOff(pod, actions);
    if (actions.killPod) {
      const graceS = pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_S;
      const specs = new Map(
        [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [c.name, c]),
      );
      await killPod(
        this.node.cri,
        this.log,
        { uid: pod.metadata.uid! },
        { graceS, specs, podIP: this.status?.podIP, remove: false, ...this.killOptions() },
      );
    }
    if (actions.createSandbox) {
      observed = await this.createSandbox(pod, actions.createSandbox.attempt);
    }
    const sandboxId = observed.sandboxes[0]?.id;
    await Promise.all(actions.kill.map((k) => this.killContainer(pod, k)));
    if (resize) await this.resizer.apply(pod, resize, this.resizeNode(pod));
    // Before the init containers, as the kubelet: a pod stuck on one can still be debugged.
    const ephemeral =
      sandboxId && !actions.killPod && !actions.terminal ? ephemeralToStart(pod, observed) : [];
    for (const container of ephemeral)
      await this.startContainer(pod, { container, init: false, restartCount: 0 }, sandboxId!, observed);
    for (const s of actions.start) {
      if (!sandboxId) break;
      const ok = await this.startContainer(pod, s, sandboxId, observed);
      if (!ok && s.init) break;
    }
    if (
      actions.kill.length ||
      actions.start.length ||
      ephemeral.length ||
      actions.killPod ||
      actions.createSandbox ||
      resize?.update.memory.length ||
      resize?.update.cpu.length
    ) {
      observed = await this.observer.observe();
    }
    await collectGarbage(this.node.cri, observed, (id) => this.observer.forgetSandbox(id));
    // Sidecars are probed too; regular init containers have no probes (the API refuses them).
    syncProbers(
      this.probers,
      this.node.cri,
      [...(pod.spec.initContainers ?? []), ...pod.spec.containers],
      observed,
      {
        log: this.log,
        onChange: () => this.wake(),
        onUnhealthy: (container, message) => this.event('Warning', 'Unhealthy', message, container),
        pod: {
          pod: pod.metadata.name,
          namespace: pod.metadata.namespace ?? 'default',
          podUid: pod.metadata.uid!,
        },
      },
    );
    this.resizer.settle(pod, runningIn(observed));
    const waiting = new Map([...actions.waiting, ...this.errors]);
    this.publish(
      podStatus({
        pod,
        observed,
        qos: this.qos!,
        hostIP: this.node.hostIP,
        runtimeName: this.node.runtimeName,
        startTime: this.startTime,
        waiting,
        probes: (id) => this.probers.get(id)?.results ?? { started: true, ready: true },
        previous: this.status ?? this.restored,
        terminal: actions.terminal,
        otherConditions: this.desired.conditions,
        ended: this.ended,
        resizeConditions: this.resizer.conditions(),
        applied: (name, id) => this.resizer.applied(name, id),
      }),
    );
    return actions;
  }

  /**
   * The running containers a resize must restart become a kill and a start of this sync (the
   * kubelet's computePodResizeAction); what changes in place is returned for the worker to apply.
   * Nothing is resized in a pod that is being stopped or made anew.
   */
  private planResize(pod: Pod, observed: ObservedPod, actions: PodActions) {
    if (actions.killPod || actions.createSandbox || actions.terminal || !observed.sandboxes[0]?.ready)
      return undefined;
    const running = runningIn(observed);
    // A container killed anyway this sync starts again with its allocation.
    for (const k of actions.kill) running.delete(k.name);
    const plan = this.resizer.plan(pod, running);
    for (const r of plan.restart) {
      const live = running.get(r.name)!;
      actions.kill.push({
        id: r.id,
        name: r.name,
        reason: 'ResizeRestart',
        message: `Container ${r.name} resize requires restart`,
      });
      actions.start.push({
        container: r.container,
        init: isSidecar(r.container),
        restartCount: live.restartCount + 1,
      });
    }
    return plan;
  }

  private resizeNode(pod: Pod) {
    const { podCgroups } = this.node;
    return {
      cri: this.node.cri,
      qos: this.qos!,
      memoryCapacity: this.node.nodeMemoryBytes,
      podCgroup: podCgroups ? () => podCgroups.updatePodCgroup(pod) : undefined,
    };
  }

  /**
   * The kubelet's activeDeadlineHandler: once the pod has been active on the node (since its start
   * time) for activeDeadlineSeconds, it is ended for good. Returns how long until the deadline.
   */
  private checkDeadline(pod: Pod): number | undefined {
    const deadlineS = pod.spec.activeDeadlineSeconds;
    if (this.ended || deadlineS === undefined) return undefined;
    const leftMs = Date.parse(this.startTime) + deadlineS * 1000 - Date.now();
    if (leftMs > 0) return leftMs;
    this.ended = DEADLINE_EXCEEDED;
    this.log.info({ activeDeadlineSeconds: deadlineS }, 'pod ran past its deadline: stopping it');
    this.event('Normal', DEADLINE_EXCEEDED.reason, DEADLINE_EXCEEDED.message);
    return undefined;
  }

  /** One BackOff event each time a container starts waiting out a restart back-off. */
  private announceBackOff(pod: Pod, actions: PodActions): void {
    for (const { name, lastId } of actions.backingOff) {
      if (this.backOffEvented.get(name) === lastId) continue;
      this.backOffEvented.set(name, lastId);
      const message = `Back-off restarting failed container ${name} in pod ${podRef(pod)}`;
      this.event('Warning', 'BackOff', message, name);
    }
  }

  /** One BackOff and one Failed event each time a container starts waiting out an image pull back-off. */
  private announceImageBackOff(pod: Pod): void {
    for (const [name, blocked] of this.imageBlocked) {
      if (blocked.evented || blocked.untilMs <= Date.now()) continue;
      blocked.evented = true;
      const image = this.containerSpec(pod, name)?.image ?? '';
      this.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, name);
      this.event('Warning', 'Failed', 'Error: ImagePullBackOff', name);
    }
  }

  private containerSpec(pod: Pod, name: string): Container | undefined {
    return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === name);
  }

  private async createSandbox(pod: Pod, attempt: number): Promise<ObservedPod> {
    this.ensurePodCgroup(pod);
    try {
      this.volumes = prepareVolumes(
        pod,
        this.dir,
        this.facts({ sandboxes: [], containers: [] }),
        this.node.mounter,
        this.desired.apiVolumes,
      );
    } catch (err) {
      // The kubelet's volume manager words (the sync is tried again, as there).
      const names = (pod.spec.volumes ?? []).map((v) => v.name).join(' ');
      const message = `Unable to attach or mount volumes: unmounted volumes=[${names}], unattached volumes=[], failed to process volumes=[]: ${messageOf(err)}`;
      this.event('Warning', 'FailedMount', message);
      throw err;
    }
    try {
      const config = sandboxConfig(
        pod,
        attempt,
        this.sandboxContext(pod, (w) => this.event('Warning', w.reason, w.message)),
      );
      const runtime_handler = await runtimeHandlerOf(pod, this.node.runtimeClasses);
      fs.mkdirSync(config.log_directory!, { recursive: true, mode: 0o755 });
      const { pod_sandbox_id } = await this.node.cri.runPodSandbox({ config, runtime_handler });
      this.log.info({ sandbox: pod_sandbox_id, attempt }, 'sandbox created');
      this.sandboxError = undefined;
    } catch (err) {
      this.sandboxError = { reason: 'CreatePodSandboxError', message: messageOf(err) };
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${messageOf(err)}`);
      this.publishSandboxError();
      throw err;
    }
    return this.observer.observe();
  }

  /** The pod cgroup with its limits, before the sandbox (the kubelet's EnsureExists in syncPod). */
  private ensurePodCgroup(pod: Pod): void {
    try {
      this.node.podCgroups?.ensurePod(pod);
    } catch (err) {
      const message = `unable to ensure pod container exists: ${messageOf(err)}`;
      this.event('Warning', 'FailedCreatePodContainer', message);
      throw new Error(message, { cause: err });
    }
  }

  private async startContainer(
    pod: Pod,
    s: StartAction,
    sandboxId: string,
    observed: ObservedPod,
  ): Promise<boolean> {
    const c = s.container;
    const config = sandboxConfig(pod, observed.sandboxes[0].attempt, this.sandboxContext(pod));
    const imageRefs = new Map<string, string>();
    try {
      const onEvent: ImageEventSink = (type, reason, message) => this.event(type, reason, message, c.name);
      await ensureImage(this.node.cri, c, config, this.desired.apiPullAuths, onEvent);
      // The images of its image volumes are pulled as the container's own, with their pull policy.
      for (const { volume, image } of imageVolumesOf(pod, c))
        imageRefs.set(
          volume,
          await ensureImage(this.node.cri, image, config, this.desired.apiPullAuths, onEvent),
        );
      this.imageBlocked.delete(c.name);
    } catch (err) {
      const reason = err instanceof ImagePullError ? err.reason : 'ErrImagePull';
      const key = `pull/${pod.metadata.uid}/${c.name}`;
      this.node.backoff.next(key, Date.now());
      const untilMs = Date.now() + this.node.backoff.currentDelayMs(key);
      this.imageBlocked.set(c.name, { reason, message: messageOf(err), untilMs });
      this.errors.set(c.name, { reason, message: messageOf(err) });
      this.log.warn({ container: c.name, reason, err: messageOf(err) }, 'image not available');
      this.event('Warning', 'Failed', `Error: ${reason}`, c.name);
      return false;
    }
    let containerId: string;
    try {
      this.volumes ??= prepareVolumes(
        pod,
        this.dir,
        this.facts(observed),
        this.node.mounter,
        this.desired.apiVolumes,
      );
      // The kubelet's verifyRunAsNonRoot: with no runAsUser, the image's user decides.
      const image = needsImageUser(pod, c) ? (await this.node.cri.imageStatus(c.image)).image : undefined;
      verifyRunAsNonRoot(pod, c, image);
      const serviceEnv = await podServiceEnv(this.node.services, {
        namespace: this.desired.namespace,
        enableServiceLinks: pod.spec.enableServiceLinks,
        fromApi: this.desired.source === 'api',
      });
      const podIPs = pod.spec.hostNetwork ? [this.node.hostIP] : (observed.sandboxes[0]?.ips ?? []);
      const facts = { ...this.facts(observed), serviceEnv };
      const containerSpec = containerConfig(pod, c, {
        qos: this.qos!,
        restartCount: s.restartCount,
        facts,
        mounts: [
          ...containerMounts(c, this.volumes, {
            podDir: this.dir,
            mounter: this.node.mounter,
            env: envMap(resolveEnv(pod, c, facts)),
            imageRefs,
          }),
          terminationMessageMount(this.dir, c),
          ...containerHostsMounts(pod, c, {
            podDir: this.dir,
            podIPs,
            clusterDomain: this.node.dns?.clusterDomain ?? '',
          }),
        ],
        memoryCapacity: this.node.nodeMemoryBytes,
        seccompDir: this.seccompDir(),
        userNamespace: this.userNamespace(pod),
      });
      ({ container_id: containerId } = await this.node.cri.createContainer({
        pod_sandbox_id: sandboxId,
        config: withTargetNamespace(containerSpec, pod, c, observed),
        sandbox_config: config,
      }));
      this.resizer.started(c, containerId);
      this.event('Normal', 'Created', `Created container: ${c.name}`, c.name);
    } catch (err) {
      // The node refused the container's own spec (CreateContainerConfigError) or the runtime failed.
      const reason = err instanceof ContainerConfigError ? err.reason : 'CreateContainerError';
      this.errors.set(c.name, { reason, message: messageOf(err) });
      const cause = err instanceof Error && err.cause ? messageOf(err.cause) : undefined;
      this.log.warn({ container: c.name, reason, err: messageOf(err), cause }, 'cannot create container');
      this.event('Warning', 'Failed', `Error: ${messageOf(err)}`, c.name);
      return false;
    }
    try {
      await this.node.cri.startContainer(containerId);
    } catch (err) {
      // The runtime records the failed start (exit 128, StartError): the next sync applies the restart policy.
      this.log.warn({ container: c.name, err: messageOf(err) }, 'cannot start container');
      this.event('Warning', 'Failed', `Error: ${messageOf(err)}`, c.name);
      return false;
    }
    this.errors.delete(c.name);
    this.log.info({ container: c.name, id: containerId, restartCount: s.restartCount }, 'container started');
    this.event('Normal', 'Started', `Started container ${c.name}`, c.name);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const podIP = observed.sandboxes[0]?.ips[0] ?? '';
      const result = await runCheck(this.node.cri, postStart, { containerId, container: c, podIP }, 30);
      if (!result.ok) {
        this.log.warn({ container: c.name, message: result.message }, 'postStart hook failed');
        // The hook's output stays in the node's log, out of the event: it may hold secrets (the kubelet's).
        this.event('Warning', 'FailedPostStartHook', 'PostStartHook failed', c.name);
        this.errors.set(c.name, { reason: 'PostStartHookError', message: result.message });
        const kill = { id: containerId, name: c.name, reason: 'PodTerminated' as const };
        await this.killContainer(pod, { ...kill, message: 'FailedPostStartHook' });
        return false;
      }
    }
    return true;
  }

  private async killContainer(pod: Pod, kill: KillAction): Promise<void> {
    const { id, name, reason } = kill;
    this.probers.get(id)?.stop();
    this.probers.delete(id);
    if (reason === 'NotStarted') {
      await this.node.cri.removeContainer(id);
      return;
    }
    this.log.info({ container: name, id, reason }, 'killing container');
    this.event('Normal', 'Killing', kill.message ?? `Stopping container ${name}`, name);
    const spec = this.containerSpec(pod, name);
    // A probe's own terminationGracePeriodSeconds applies when that probe's failure kills (the kubelet's).
    const probe =
      reason === 'LivenessProbe'
        ? spec?.livenessProbe
        : reason === 'StartupProbe'
          ? spec?.startupProbe
          : undefined;
    const graceS =
      probe?.terminationGracePeriodSeconds ??
      pod.spec.terminationGracePeriodSeconds ??
      DEFAULT_GRACE_PERIOD_S;
    await stopContainerGracefully(
      this.node.cri,
      this.log,
      { id, name, spec },
      { graceS, podIP: this.status?.podIP ?? '' },
    );
  }

  /** The sandbox could not be created: the pod stays Pending and says why. */
  private publishSandboxError(): void {
    const base = this.status ?? this.restored ?? rejectedStatus('', this.node.hostIP);
    this.publish({ ...base, phase: 'Pending', ...this.sandboxError });
  }

  private event(type: PodEvent['type'], reason: string, message: string, container?: string): void {
    const spec = this.desired.pod?.spec;
    const list = !container
      ? undefined
      : spec?.initContainers?.some((c) => c.name === container)
        ? 'initContainers'
        : spec?.ephemeralContainers?.some((c) => c.name === container)
          ? 'ephemeralContainers'
          : undefined;
    const fieldPath = list ? `spec.${list}{${container}}` : undefined;
    this.node.onEvent?.(this.desired, {
      type,
      reason,
      message,
      container,
      ...(fieldPath ? { fieldPath } : {}),
    });
  }

  private publish(status: PodStatusView): void {
    // The generation of the spec a sync has acted on (a resize admitted or pending), not of one
    // that only arrived: a client waiting for observedGeneration must see the resize's outcome.
    status = withObservedGeneration(status, this.syncedSpec ?? this.desired.pod);
    const changed = JSON.stringify(status) !== JSON.stringify(this.status);
    this.status = status;
    if (changed) this.node.onStatus?.(this.desired, status);
    if (changed && this.node.writeStatusFiles) {
      try {
        writePodStatusFile(this.dir, this.desired, status);
      } catch (err) {
        this.log.warn({ err: messageOf(err) }, 'cannot write status.json');
      }
    }
  }
}

/** The newest running container of each name in the pod's current sandbox. */
function runningIn(observed: ObservedPod): Map<string, ObservedContainer> {
  const sandbox = observed.sandboxes[0];
  if (!sandbox) return new Map();
  return latestByName(observed.containers.filter((c) => c.sandboxId === sandbox.id && c.state === 'running'));
}
