import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../common/log';
import type { Pod } from '../pod_spec';
import { allocatable, parseGoDuration, parseMapFlag, parseThresholds } from './config';
import { EvictionManager, type ActivePod, type Eviction } from './manager';
import { rankForEviction, type PodUsage } from './ranking';
import type { Observations } from './signals';

const log = createLogger('fatal');
const GI = 2 ** 30;

describe('thresholds and allocatable', () => {
  test('the defaults are the kubelet v1.36 hard thresholds', () => {
    expect(parseThresholds({}).map((t) => [t.signal, t.value])).toEqual([
      ['memory.available', { quantity: 100 * 2 ** 20 }],
      ['nodefs.available', { percentage: 0.1 }],
      ['nodefs.inodesFree', { percentage: 0.05 }],
      ['imagefs.available', { percentage: 0.15 }],
      ['imagefs.inodesFree', { percentage: 0.05 }],
    ]);
  });

  test('evictionHard replaces the defaults; soft thresholds need a grace period', () => {
    expect(parseThresholds({ evictionHard: { 'pid.available': '1k' } }).map((t) => t.signal)).toEqual([
      'pid.available',
    ]);
    expect(() => parseThresholds({ evictionSoft: { 'memory.available': '1Gi' } })).toThrow(
      "Cannot use evictionSoft 'memory.available': it needs a grace period in evictionSoftGracePeriod",
    );
    const [soft] = parseThresholds({
      evictionHard: {},
      evictionSoft: { 'memory.available': '1Gi' },
      evictionSoftGracePeriod: { 'memory.available': '1m30s' },
    });
    expect(soft).toMatchObject({ hard: false, gracePeriodMs: 90_000 });
    expect(() => parseThresholds({ evictionHard: { 'disk.free': '1%' } })).toThrow(/unknown eviction signal/);
    expect(() => parseThresholds({ evictionHard: { 'nodefs.available': '120%' } })).toThrow(
      /from 0% to 100%/,
    );
  });

  test('allocatable is capacity less both reservations and the hard memory and nodefs thresholds', () => {
    const cap = { cpu: 4000, memory: 8 * GI, ephemeralStorage: 100 * GI, pods: 110 };
    expect(
      allocatable(cap, {
        systemReserved: { cpu: '500m', memory: '1Gi' },
        kubeReserved: { cpu: '250m', 'ephemeral-storage': '5Gi' },
      }),
    ).toEqual({ cpu: 3250, memory: 7 * GI - 100 * 2 ** 20, ephemeralStorage: 85 * GI, pods: 110 });
    expect(() => allocatable(cap, { systemReserved: { gpu: '1' } })).toThrow(/only cpu, memory/);
  });

  test('flags read as maps; durations as Go writes them', () => {
    expect(parseMapFlag('eviction-hard', 'memory.available<1Gi, nodefs.available<5%', '<')).toEqual({
      'memory.available': '1Gi',
      'nodefs.available': '5%',
    });
    expect(() => parseMapFlag('kube-reserved', 'cpu', '=')).toThrow(/name=value pairs/);
    expect(parseGoDuration('1h2m3s')).toBe(3_723_000);
    expect(() => parseGoDuration('5 minutes')).toThrow(/Cannot parse duration/);
  });
});

describe('ranking', () => {
  const p = (uid: string, priority: number, memory: number, request: number): PodUsage => ({
    uid,
    priority,
    requests: { memory: request, ephemeralStorage: 0 },
    usage: { memory },
  });

  test('pods over their request go first, then lower priority, then more use above the request', () => {
    const ranked = rankForEviction(
      [
        p('within', 0, 50, 100),
        p('over-high', 1000, 200, 100),
        p('over-low-small', 0, 120, 100),
        p('over-low-big', 0, 500, 100),
      ],
      'memory',
    );
    expect(ranked.map((r) => r.uid)).toEqual(['over-low-big', 'over-low-small', 'over-high', 'within']);
  });

  test('for process ids, priority first, then the most pids', () => {
    const pid = (uid: string, priority: number, pids: number): PodUsage => ({
      uid,
      priority,
      requests: { memory: 0, ephemeralStorage: 0 },
      usage: { pids },
    });
    expect(
      rankForEviction([pid('a', 10, 500), pid('b', 0, 5), pid('c', 0, 50)], 'pids').map((r) => r.uid),
    ).toEqual(['c', 'b', 'a']);
  });
});

describe('EvictionManager', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eviction-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const pod = (uid: string, spec: Record<string, unknown> = {}): ActivePod => ({
    uid,
    static: false,
    podDir: path.join(dir, uid),
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: uid, uid },
      spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
    } as Pod,
  });

  function manager(obs: () => Observations, pods: ActivePod[], config = {}) {
    const evicted: Eviction[] = [];
    const conditions: string[][] = [];
    const events: string[] = [];
    const m = new EvictionManager({
      thresholds: parseThresholds(config),
      pressureTransitionMs: 60_000,
      maxPodGraceS: 0,
      observe: obs,
      pods: () => pods,
      evict: (e) => evicted.push(e),
      onPressure: (c) => conditions.push(c),
      onNodeEvent: (reason, message) => events.push(`${reason}: ${message}`),
      log,
    });
    return { m, evicted, conditions, events };
  }

  test('nodefs below its threshold: DiskPressure, an event, and the pod using most disk is evicted', () => {
    fs.mkdirSync(path.join(dir, 'big'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'big', 'data'), Buffer.alloc(256 * 1024, 1));
    fs.mkdirSync(path.join(dir, 'small'), { recursive: true });
    const obs = { 'nodefs.available': { available: 5 * GI, capacity: 100 * GI } };
    const { m, evicted, conditions, events } = manager(() => obs, [pod('small'), pod('big')]);
    const e = m.synchronize(0);
    expect(conditions).toEqual([['DiskPressure']]);
    expect(events).toEqual(['EvictionThresholdMet: Attempting to reclaim ephemeral-storage']);
    expect(e).toEqual({
      uid: 'big',
      message: 'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 5Gi. ',
      graceS: 1,
    });
    expect(evicted.map((x) => x.uid)).toEqual(['big']);
  });

  test('pressure stays for the transition period after the signal recovers', () => {
    let available = 5 * GI;
    const { m, conditions } = manager(() => ({ 'nodefs.available': { available, capacity: 100 * GI } }), []);
    m.synchronize(0);
    available = 50 * GI;
    m.synchronize(30_000);
    expect(m.pressure()).toEqual(['DiskPressure']);
    m.synchronize(61_000);
    expect(m.pressure()).toEqual([]);
    expect(conditions).toEqual([['DiskPressure'], []]);
  });

  test('a soft threshold evicts only once met for its grace period', () => {
    const obs = { 'memory.available': { available: GI / 2, capacity: 8 * GI } };
    const config = {
      evictionHard: {},
      evictionSoft: { 'memory.available': '1Gi' },
      evictionSoftGracePeriod: { 'memory.available': '30s' },
    };
    const { m } = manager(() => obs, [pod('a', { terminationGracePeriodSeconds: 20 })], config);
    expect(m.synchronize(0)).toBeUndefined();
    expect(m.pressure()).toEqual(['MemoryPressure']);
    expect(m.synchronize(31_000)).toMatchObject({ uid: 'a', graceS: 20 });
  });

  test('critical pods are never evicted', () => {
    const obs = { 'pid.available': { available: 10, capacity: 32768 } };
    const critical = { ...pod('static'), static: true };
    const { m } = manager(() => obs, [critical, pod('prio', { priority: 2_000_000_000 })], {
      evictionHard: { 'pid.available': '100' },
    });
    expect(m.synchronize(0)).toBeUndefined();
    expect(m.pressure()).toEqual(['PIDPressure']);
  });

  test('an emptyDir holding more than its sizeLimit evicts its pod with the kubelet message', () => {
    const p = pod('writer', { volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '64Ki' } }] });
    const vol = path.join(p.podDir, 'volumes', 'kubernetes.io~empty-dir', 'scratch');
    fs.mkdirSync(vol, { recursive: true });
    const { m } = manager(() => ({}), [p]);
    expect(m.synchronize(0)).toBeUndefined();
    fs.writeFileSync(path.join(vol, 'f'), Buffer.alloc(128 * 1024, 1));
    expect(m.synchronize(1)).toEqual({
      uid: 'writer',
      message: 'Usage of EmptyDir volume "scratch" exceeds the limit "64Ki". ',
      graceS: 0,
    });
  });
});
