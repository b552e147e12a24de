// The soak: pod churn against one nodelet daemon for a while, sampling what could leak. Used by
// the bench suite (bench/soak/run.ts, 30 minutes) and by the short root test
// (test/integration/daemon/soak_short.test.ts, about 2 minutes): one implementation.
//
// Each worker loops over a whole pod's life as a kubelet drives it: RunPodSandbox (CNI), a
// container that prints a line and sleeps, ExecSync into it, a second container that exits, the
// log line read back from the CRI log file, ReopenContainerLog, ContainerStats,
// ListContainerStats, the List and Status calls, then StopPodSandbox and RemovePodSandbox. A
// sampler reads the daemon's, monitor's and keeper's fds and RSS, the daemon's V8 heap (its
// /metrics), and counts by kind what test/support/leftovers.ts lists (the "nothing remains" helper
// of the crash-point walk: mounts, cgroups, veths, leases, records, directories, processes).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { TestCriClient } from '../../test/support/cri_client';
import { leftovers, NodeRoots } from '../../test/support/leftovers';
import {
  createContainer,
  podConfig,
  PodPlace,
  PodRef,
  runPod,
  startContainer,
  waitExited,
} from '../lib/pods';

export interface SoakOptions {
  cri: TestCriClient;
  roots: NodeRoots;
  daemonPid: number;
  /** host:port of the daemon's /metrics, for its V8 heap; none: the heap is not sampled. */
  metricsAddress?: string;
  durationMs: number;
  sampleEveryMs: number;
  parallel: number;
  /** Pod log directories go under here (removed with each pod, as a kubelet does). */
  place: PodPlace;
  progress?: (message: string) => void;
}

/** One reading of every series, `t` seconds after the churn began. */
export interface Sample {
  t: number;
  values: Record<string, number>;
}

export interface SoakResult {
  /** Read while churning. */
  samples: Sample[];
  /** Read with no pod, after a warm-up round, before the churn. */
  idleBefore: Sample;
  /** Read with no pod, after the churn and the removal of every pod. */
  idleAfter: Sample;
  cycles: number;
  /** Failed steps by name, and the first few messages. */
  errors: Record<string, number>;
  firstErrors: string[];
}

/** The soak's series for the kinds of line leftovers() writes ("mount <path>", "IPAM lease <path>"). */
const KINDS: Record<string, string[]> = {
  mounts: ['mount'],
  netns: [], // the mounts of pinned network namespaces, counted below
  cgroups: ['cgroup'],
  veths: ['veth'],
  leases: ['IPAM lease'],
  sandboxRecords: ['pod record'],
  containerRecords: ['container record'],
  idDirs: ['pinned namespaces', 'pod dir', 'pod run dir', 'container dir', 'monitor entry', 'orphan exit'],
  cniResults: ['CNI result'],
  processes: ['process'],
};

/** How many lines of each kind leftovers() wrote (every other line counts as 'other'). */
export function countLeftovers(lines: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0]));
  for (const line of lines) {
    const series = Object.keys(KINDS).find((k) => KINDS[k]!.some((prefix) => line.startsWith(`${prefix} `)));
    counts[series ?? 'other'] = (counts[series ?? 'other'] ?? 0) + 1;
    if (line.startsWith('mount ') && line.endsWith('/network')) counts.netns!++;
  }
  return counts;
}

/** The series, in the order the report shows them. */
export const SERIES = [
  'daemon fds',
  'daemon RSS MB',
  'daemon heap MB',
  'daemon heap total MB',
  'daemon external MB',
  'monitor fds',
  'monitor RSS MB',
  'keeper fds',
  'keeper RSS MB',
  ...Object.keys(KINDS),
  'other',
  'pods cycled',
];

const CYCLE_TIMEOUT_MS = 120_000;
const MARK = 'soak-line';

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const progress = opts.progress ?? (() => undefined);
  const errors: Record<string, number> = {};
  const firstErrors: string[] = [];
  let cycles = 0;
  let serial = 0;
  const failed = (step: string, err: unknown) => {
    errors[step] = (errors[step] ?? 0) + 1;
    if (firstErrors.length < 10) firstErrors.push(`${step}: ${(err as Error).message.split('\n')[0]}`);
  };
  const cycle = async () => {
    const ok = await podCycle(opts.cri, `soak${serial++}`, opts.place, failed);
    if (ok) cycles++;
  };

  // Warm-up: one pod per worker, so pools, caches and the heap have found their size.
  await Promise.all(Array.from({ length: opts.parallel }, cycle));
  const idleBefore = await idleSample(opts, 0, () => cycles);
  progress(`soak: warm; idle ${describe(idleBefore)}`);

  const started = Date.now();
  const deadline = started + opts.durationMs;
  const samples: Sample[] = [];
  const take = async () => {
    const s = await sample(opts, (Date.now() - started) / 1000, () => cycles);
    samples.push(s);
    progress(`soak: ${Math.round(s.t)} s, ${cycles} pods, ${describe(s)}`);
  };
  await take();
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(take).catch((err) => failed('sample', err));
  }, opts.sampleEveryMs);
  try {
    await Promise.all(
      Array.from({ length: opts.parallel }, async () => {
        while (Date.now() < deadline) await cycle();
      }),
    );
  } finally {
    clearInterval(timer);
    await sampling;
  }
  await removeEveryPod(opts.cri, failed);
  const idleAfter = await idleSample(opts, (Date.now() - started) / 1000, () => cycles);
  progress(`soak: done, ${cycles} pods; idle ${describe(idleAfter)}`);
  return { samples, idleBefore, idleAfter, cycles, errors, firstErrors };
}

/**
 * One pod's whole life. Failures are counted by step, never thrown: one failed call is a row of
 * the report, not the end of the soak. The pod is removed in every case.
 */
async function podCycle(
  cri: TestCriClient,
  name: string,
  place: PodPlace,
  failed: (step: string, err: unknown) => void,
): Promise<boolean> {
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      failed(what, err);
      throw err;
    }
  };
  let pod: PodRef;
  try {
    pod = await step('RunPodSandbox', () => runPod(cri, podConfig(name, 'cni', place)));
  } catch {
    return false;
  }
  const logDir = pod.config.log_directory as string;
  let ok = false;
  try {
    const talker = await step('CreateContainer', () =>
      createContainer(cri, pod, 'talker', ['/bin/sh', '-c', `echo ${MARK}; exec sleep 86400`]),
    );
    await step('StartContainer', () => startContainer(cri, talker));
    await step('ExecSync', async () => {
      const res = await cri.runtime<{ stdout: Buffer; exit_code: number }>(
        'ExecSync',
        { container_id: talker, cmd: ['/bin/echo', 'exec-ok'], timeout: 60 },
        CYCLE_TIMEOUT_MS,
      );
      if (res.exit_code !== 0 || !Buffer.from(res.stdout).toString().includes('exec-ok'))
        throw new Error(`exec answered ${res.exit_code}: '${Buffer.from(res.stdout).toString()}'`);
    });
    const done = await step('CreateContainer', () => createContainer(cri, pod, 'done', ['/bin/true']));
    await step('StartContainer', () => startContainer(cri, done));
    await step('wait exited', () => waitExited(cri, done, CYCLE_TIMEOUT_MS));
    await step('read log', () => waitForLogLine(path.join(logDir, 'talker.log'), MARK));
    await step('ReopenContainerLog', () =>
      cri.runtime('ReopenContainerLog', { container_id: talker }, CYCLE_TIMEOUT_MS),
    );
    await step('ContainerStats', () =>
      cri.runtime('ContainerStats', { container_id: talker }, CYCLE_TIMEOUT_MS),
    );
    await step('ListContainerStats', () =>
      cri.runtime('ListContainerStats', { filter: { pod_sandbox_id: pod.id } }, CYCLE_TIMEOUT_MS),
    );
    await step('PodSandboxStats', () =>
      cri.runtime('PodSandboxStats', { pod_sandbox_id: pod.id }, CYCLE_TIMEOUT_MS),
    );
    await step('ListContainers', () =>
      cri.runtime('ListContainers', { filter: { pod_sandbox_id: pod.id } }, CYCLE_TIMEOUT_MS),
    );
    await step('ListPodSandbox', () => cri.runtime('ListPodSandbox', {}, CYCLE_TIMEOUT_MS));
    await step('ContainerStatus', () =>
      cri.runtime('ContainerStatus', { container_id: done, verbose: true }, CYCLE_TIMEOUT_MS),
    );
    await step('PodSandboxStatus', () =>
      cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id }, CYCLE_TIMEOUT_MS),
    );
    ok = true;
  } catch {
    // counted by step()
  }
  try {
    await step('StopPodSandbox', () =>
      cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, CYCLE_TIMEOUT_MS),
    );
    await step('RemovePodSandbox', () =>
      cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, CYCLE_TIMEOUT_MS),
    );
  } catch {
    ok = false;
  }
  // The client owns the log files (nodelet never deletes one, as containerd).
  fs.rmSync(logDir, { recursive: true, force: true });
  return ok;
}

/** The CRI log file holds the line (the monitor writes it as the container prints it). */
async function waitForLogLine(file: string, text: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const content = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    // CRI format: <time> <stream> <tag> <line>
    if (content.split('\n').some((l) => / stdout F /.test(l) && l.endsWith(text))) return;
    if (Date.now() > until) throw new Error(`Cannot read '${text}' in ${file}: it holds '${content}'`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function removeEveryPod(cri: TestCriClient, failed: (step: string, err: unknown) => void) {
  const { items } = await cri.runtime<{ items: { id: string }[] }>('ListPodSandbox', {}, 60_000);
  for (const pod of items) {
    await cri
      .runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, CYCLE_TIMEOUT_MS)
      .catch((err) => failed('final RemovePodSandbox', err));
  }
}

/** A sample with no pod: waits a little for the last exits and closes to settle. */
async function idleSample(opts: SoakOptions, t: number, cycles: () => number): Promise<Sample> {
  await new Promise((r) => setTimeout(r, 3000));
  return sample(opts, t, cycles);
}

export async function sample(opts: SoakOptions, t: number, cycles: () => number): Promise<Sample> {
  const values: Record<string, number> = {};
  const processes = {
    daemon: opts.daemonPid,
    monitor: lockPid(opts.roots.runDir, 'monitor.lock'),
    keeper: lockPid(opts.roots.runDir, 'keeper.lock'),
  };
  for (const [name, pid] of Object.entries(processes)) {
    values[`${name} fds`] = pid === undefined ? NaN : fdCount(pid);
    values[`${name} RSS MB`] = pid === undefined ? NaN : rssMb(pid);
  }
  Object.assign(values, await daemonMemory(opts.metricsAddress));
  Object.assign(values, countLeftovers(leftovers(opts.roots, { daemonPid: opts.daemonPid })));
  values['pods cycled'] = cycles();
  return { t, values };
}

/** Pid written in a lock file of the run dir; undefined when none runs. */
function lockPid(runDir: string, lock: 'monitor.lock' | 'keeper.lock'): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, lock), 'utf8').trim());
    return pid > 0 && fs.existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function fdCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * The daemon's V8 heap (used and committed) and its memory outside the heap (Buffers: gRPC, pipes),
 * from prom-client's default metrics on its /metrics: RSS that grows while these stay flat is
 * native memory.
 */
async function daemonMemory(address: string | undefined): Promise<Record<string, number>> {
  const body = address ? await scrape(address) : '';
  const mb = (name: string) => {
    const m = new RegExp(`^nodelet_${name} (\\S+)$`, 'm').exec(body);
    return m ? Number(m[1]) / 2 ** 20 : NaN;
  };
  return {
    'daemon heap MB': mb('nodejs_heap_size_used_bytes'),
    'daemon heap total MB': mb('nodejs_heap_size_total_bytes'),
    'daemon external MB': mb('nodejs_external_memory_bytes'),
  };
}

function scrape(address: string): Promise<string> {
  return new Promise((resolve) => {
    http
      .get(`http://${address}/metrics`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', () => resolve(''));
  });
}

function describe(s: Sample): string {
  const v = s.values;
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : String(Math.round(x)));
  return (
    `daemon ${f(v['daemon fds'])} fds ${f(v['daemon RSS MB'])} MB, monitor ${f(v['monitor fds'])} fds ` +
    `${f(v['monitor RSS MB'])} MB, mounts ${f(v.mounts)}, cgroups ${f(v.cgroups)}, veths ${f(v.veths)}, ` +
    `leases ${f(v.leases)}, processes ${f(v.processes)}`
  );
}
