// Network counters of a pod: /proc/<pid>/net/dev of any process in the pod's network namespace
// shows that namespace's interfaces (the file follows the reader's view of the target's netns).
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkInterfaceStats } from './types';

export function parseNetDev(text: string): NetworkInterfaceStats[] {
  const out: NetworkInterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16) continue;
    out.push({ name, rxBytes: f[0], rxErrors: f[2], txBytes: f[8], txErrors: f[10] });
  }
  return out;
}

/** The interfaces of the network namespace `pid` is in; undefined when the process is gone. */
export function readNetDev(pid: number, procRoot = '/proc'): NetworkInterfaceStats[] | undefined {
  try {
    return parseNetDev(fs.readFileSync(path.join(procRoot, String(pid), 'net', 'dev'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The pod's main interface: eth0 as CNI names it, else the first that is not loopback. */
export function defaultInterface(ifaces: NetworkInterfaceStats[]): NetworkInterfaceStats | undefined {
  return ifaces.find((i) => i.name === 'eth0') ?? ifaces.find((i) => i.name !== 'lo');
}
