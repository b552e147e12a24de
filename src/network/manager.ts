// Pod networks through CNI: setUp runs ADD through the active conflist and remembers the result,
// tearDown replays DEL from that memory, so it works after a restart, after the pod CIDR changed
// and when the pod's netns is already gone. Calls for the same pod run one after the other.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/log';
import { KeyedQueue } from '../common/keyed_queue';
import { runInBackground } from '../common/background';
import type { RuntimeCondition } from '../gen/runtime/v1/RuntimeCondition';
import { failedPrecondition, internal, messageOf, NodeletError, unavailable } from '../common/errors';
import { networkReadiness, readinessCondition } from './condition';
import {
  DEFAULT_BRIDGE,
  DEFAULT_CONFLIST_FILE,
  writeDefaultConflist,
  parseIpv4Cidr,
} from './default_conflist';
import { CNI_CODE, CniPluginError } from './exec';
import { addNetworkList, checkNetworkList, delNetworkList, ListCall } from './invoke';
import { NetworkCache, NetworkRecord, CACHE_RECORD_VERSION } from './cache';
import { CniInterface, CniResult, parseResult, podIps } from './result';
import { PodNetworkRequest, checkPodId, cniArgs, runtimeConfigOf } from './pod_request';
import { versionProblems } from './versions';

export interface PodNetworkOptions {
  /** The administrator's CNI configs; read, never written. Its first config wins over nodelet's default. */
  confDir: string;
  binDirs: string[];
  /** Results of ADDs, nodelet's default conflist (net.d/) and its IP allocations (networks/). */
  cacheDir: string;
  /** The range of the default conflist; without it nodelet installs none. */
  podCidr?: string;
  log: Logger;
  /** The default network's bridge; tests give their own. Default: nodelet0. */
  bridge?: string;
  /** Time allowed to one ADD, DEL or CHECK through the whole list (cniTimeoutSeconds). */
  pluginTimeoutMs?: number;
  /** Told how long each pod network setup and teardown took, and which failed. */
  observer?: NetworkObserver;
}

export interface NetworkObserver {
  observe(operation: 'setup' | 'teardown', seconds: number): void;
  failed(operation: 'setup' | 'teardown', reason: unknown): void;
}

export interface PodNetworkStatus {
  /** Pod addresses without prefix length, IPv4 first. */
  ips: string[];
  interfaces: CniInterface[];
  result: CniResult;
}

const IF_NAME = 'eth0';

interface VersionCheck {
  /** Which version of the config file was checked. */
  key: string;
  problem?: string;
}

export class PodNetworkManager {
  private readonly cache: NetworkCache;
  /** Calls for the same pod run one after the other. */
  private readonly perPod = new KeyedQueue();
  private podCidr: string | undefined;
  private versionCheck: VersionCheck | undefined;

  constructor(private readonly options: PodNetworkOptions) {
    this.cache = new NetworkCache(options.cacheDir);
    this.podCidr = options.podCidr === undefined ? undefined : parseIpv4Cidr(options.podCidr);
  }

  /**
   * NetworkReady. The plugins' VERSION answers are asked in the background once per config file
   * version; until they arrive the condition rests on the files alone.
   */
  condition(): RuntimeCondition {
    const readiness = networkReadiness(this.confDirs(), this.options.binDirs);
    if (!readiness.ready) return readinessCondition(readiness);
    const key = fileKey(readiness.network.file);
    if (this.versionCheck?.key !== key) {
      const check: VersionCheck = { key };
      this.versionCheck = check;
      runInBackground(this.options.log, 'ask the CNI plugins their versions', async () => {
        const problems = await versionProblems(readiness.network.list, this.options.binDirs);
        check.problem = problems.length > 0 ? `${readiness.network.file}: ${problems.join('; ')}` : undefined;
      });
    } else if (this.versionCheck.problem) {
      return readinessCondition({ ready: false, message: this.versionCheck.problem });
    }
    return readinessCondition(readiness);
  }

  /** The same, under the name the CRI's Status handler asks for. */
  networkCondition(): RuntimeCondition {
    return this.condition();
  }

  /**
   * Writes nodelet's default conflist for the current pod CIDR into its own conf dir; it is used
   * while the administrator's conf dir holds no config. Returns the file written.
   */
  installDefaultConflist(): string {
    if (!this.podCidr)
      throw failedPrecondition('Cannot install the default CNI conflist: no pod CIDR is set');
    const file = writeDefaultConflist(this.ownConfDir(), {
      podCidr: this.podCidr,
      bridge: this.options.bridge ?? DEFAULT_BRIDGE,
      ipamDataDir: path.join(this.options.cacheDir, 'networks'),
    });
    this.options.log.info({ file, podCidr: this.podCidr }, 'installed the default CNI conflist');
    return file;
  }

  /** UpdateRuntimeConfig: a new pod CIDR rewrites nodelet's conflist (running pods keep their IPs). */
  setPodCidr(cidr: string): void {
    const next = parseIpv4Cidr(cidr);
    if (next === this.podCidr && fs.existsSync(path.join(this.ownConfDir(), DEFAULT_CONFLIST_FILE))) return;
    this.podCidr = next;
    this.installDefaultConflist();
  }

  async setUp(req: PodNetworkRequest): Promise<PodNetworkStatus> {
    checkPodId(req.podId);
    return this.serialized(req.podId, () => this.observed('setup', () => this.add(req)));
  }

  /** Releases the pod's network. Idempotent: a pod without a record has nothing to release. */
  async tearDown(podId: string, netnsPath?: string): Promise<void> {
    checkPodId(podId);
    return this.serialized(podId, async () => {
      const record = this.cache.load(podId);
      if (record) await this.observed('teardown', () => this.del(record, netnsPath));
    });
  }

  private async observed<T>(operation: 'setup' | 'teardown', work: () => Promise<T>): Promise<T> {
    const began = performance.now();
    try {
      const result = await work();
      this.options.observer?.observe(operation, (performance.now() - began) / 1000);
      return result;
    } catch (err) {
      this.options.observer?.failed(operation, err);
      throw err;
    }
  }

  /** What the last successful ADD gave the pod, or undefined. */
  status(podId: string): PodNetworkStatus | undefined {
    const result = this.cache.load(podId)?.result;
    return result ? statusOf(parseResult(result, 'cache')) : undefined;
  }

  /** Pods that hold a network (or a half-done ADD): after a restart, those without a sandbox are torn down. */
  pods(): string[] {
    return this.cache.list();
  }

  /** CNI CHECK of a pod's network against its recorded result. */
  async check(podId: string): Promise<void> {
    checkPodId(podId);
    return this.serialized(podId, async () => {
      const record = this.cache.load(podId);
      if (!record?.result)
        throw failedPrecondition(`Cannot check the network of pod '${podId}': it has none`);
      await checkNetworkList(record.list, this.call(record, record.netnsPath), record.result);
    });
  }

  private async add(req: PodNetworkRequest): Promise<PodNetworkStatus> {
    const previous = this.cache.load(req.podId);
    if (previous?.result) return statusOf(parseResult(previous.result, 'cache'));
    // A record without a result is an ADD a crash interrupted: undo it before starting again.
    if (previous) await this.del(previous, req.netnsPath);

    const readiness = networkReadiness(this.confDirs(), this.options.binDirs);
    if (!readiness.ready) {
      throw failedPrecondition(`Cannot set up the network of pod '${req.podId}': ${readiness.message}`);
    }
    if (!isNetns(req.netnsPath)) {
      throw failedPrecondition(
        `Cannot set up the network of pod '${req.podId}': '${req.netnsPath}' is not a netns`,
      );
    }
    const record: NetworkRecord = {
      version: CACHE_RECORD_VERSION,
      podId: req.podId,
      netnsPath: req.netnsPath,
      ifName: IF_NAME,
      list: readiness.network.list,
      cniArgs: cniArgs(req),
      runtimeConfig: runtimeConfigOf(req),
    };
    this.cache.save(record);
    try {
      record.result = await addNetworkList(record.list, this.call(record, req.netnsPath));
      const status = statusOf(parseResult(record.result, 'ADD'));
      this.cache.save(record);
      this.options.log.info({ podId: req.podId, ips: status.ips }, 'pod network is up');
      return status;
    } catch (err) {
      await this.del(record, req.netnsPath).catch((undoErr) =>
        this.options.log.error(
          { podId: req.podId, err: messageOf(undoErr) },
          'cannot undo a failed network ADD',
        ),
      );
      throw addError(req.podId, err);
    }
  }

  private async del(record: NetworkRecord, netnsPath: string | undefined): Promise<void> {
    const netns = netnsPath ?? record.netnsPath;
    try {
      await delNetworkList(record.list, this.call(record, isNetns(netns) ? netns : ''), record.result);
    } catch (err) {
      throw internal(`Cannot tear down the network of pod '${record.podId}': ${messageOf(err)}`, err);
    }
    this.cache.remove(record.podId);
    this.options.log.info({ podId: record.podId }, 'pod network is down');
  }

  private ownConfDir(): string {
    return path.join(this.options.cacheDir, 'net.d');
  }

  private confDirs(): string[] {
    return [this.options.confDir, this.ownConfDir()];
  }

  private call(record: NetworkRecord, netns: string): ListCall {
    return {
      containerId: record.podId,
      netns,
      ifName: record.ifName,
      args: record.cniArgs,
      binDirs: this.options.binDirs,
      runtimeConfig: record.runtimeConfig,
      timeoutMs: this.options.pluginTimeoutMs,
    };
  }

  private serialized<T>(podId: string, work: () => Promise<T>): Promise<T> {
    return this.perPod.run(podId, work);
  }
}

function fileKey(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return `${file}:${st?.mtimeMs}:${st?.size}:${st?.ino}`;
}

function statusOf(result: CniResult): PodNetworkStatus {
  return { ips: podIps(result), interfaces: result.interfaces, result };
}

/** Every namespace file lives on the one nsfs superblock: same device as our own netns. */
function isNetns(file: string): boolean {
  if (!file) return false;
  try {
    return fs.statSync(file).dev === fs.statSync('/proc/self/ns/net').dev;
  } catch {
    return false;
  }
}

function addError(podId: string, err: unknown): Error {
  const message = `Cannot set up the network of pod '${podId}': ${messageOf(err)}`;
  if (!(err instanceof CniPluginError)) return internal(message, err);
  if (err.code === CNI_CODE.tryAgain) return unavailable(message, err);
  if (err.code === CNI_CODE.timedOut) return new NodeletError('DeadlineExceeded', message, { cause: err });
  if (err.code === CNI_CODE.invalidConfig || err.code === CNI_CODE.incompatibleVersion) {
    return failedPrecondition(message, err);
  }
  return internal(message, err);
}
