// Facts about this host for the Node object: what /proc, /etc and /sys say, read once at start
// (the boot ID and capacity do not change while the agent runs).
import fs from 'node:fs';
import os from 'node:os';
import type { NodeFacts } from './node_object';

const readTrimmed = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
};

function osImage(): string {
  const release = readTrimmed('/etc/os-release');
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release);
  return m?.[1] ?? 'Linux';
}

/** Go's GOARCH names, which the API and images use. */
export function goArch(nodeArch = os.arch()): string {
  return (
    ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as const)[
      nodeArch as 'x64'
    ] ?? nodeArch
  );
}

function diskBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return s.blocks * s.bsize;
  } catch {
    return undefined;
  }
}

/** The kubelet's hard eviction default: nodefs.available<10% (and imagefs.available<10%). */
const DISK_PRESSURE_AVAILABLE_FRACTION = 0.1;

/** True when the filesystem of `dir` has less than the eviction threshold free; false when unreadable. */
export function diskPressureAt(dir: string, fraction = DISK_PRESSURE_AVAILABLE_FRACTION): boolean {
  try {
    const s = fs.statfsSync(dir);
    return s.blocks > 0 && s.bavail / s.blocks < fraction;
  } catch {
    return false;
  }
}

export function hostNodeFacts(options: {
  nodeName: string;
  nodeIP: string;
  kubeletPort: number;
  maxPods: number;
  rootDir: string;
  containerRuntimeVersion: string;
  labels?: Record<string, string>;
  taints?: NodeFacts['taints'];
}): NodeFacts {
  return {
    ...options,
    cpuCores: os.cpus().length,
    memoryBytes: os.totalmem(),
    ephemeralStorageBytes: diskBytes(options.rootDir),
    machineID: readTrimmed('/etc/machine-id'),
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid'),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: osImage(),
    architecture: goArch(),
  };
}
