// A private CNI world for one test file: its own conf, cache and IPAM dirs under a temp root, its
// own bridge (nlt<random>) on a /24 no host route uses, and an undo for everything the plugins
// leave on the host (the bridge, portmap's shared chains, the ip_forward the bridge plugin sets).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { PodNetworkManager, PodNetworkOptions } from '../../../src/network';
import { createNetns, removeNetns } from '../../support/netns';

export interface Harness {
  root: string;
  confDir: string;
  cacheDir: string;
  bridge: string;
  podCidr: string;
  manager(extra?: Partial<PodNetworkOptions>): PodNetworkManager;
  netns(name: string): string;
  cleanup(): void;
}

export const BIN_DIRS = ['/usr/lib/cni'];
const HOSTPORT_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

export function createHarness(): Harness {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-net-'));
  const bridge = `nlt${Math.random().toString(36).slice(2, 9)}`;
  const podCidr = freeSubnet();
  const chainsBefore = new Set(HOSTPORT_CHAINS.filter(natChainExists));
  const forwardBefore = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const netnsFiles: string[] = [];
  const h: Harness = {
    root,
    confDir: path.join(root, 'net.d'),
    cacheDir: path.join(root, 'cni'),
    bridge,
    podCidr,
    manager: (extra = {}) =>
      new PodNetworkManager({
        confDir: h.confDir,
        binDirs: BIN_DIRS,
        cacheDir: h.cacheDir,
        podCidr,
        bridge,
        log: pino({ level: 'silent' }),
        ...extra,
      }),
    netns: (name) => {
      const file = createNetns(root, name);
      netnsFiles.push(file);
      return file;
    },
    cleanup: () => {
      for (const file of netnsFiles) removeNetns(file);
      run('ip', ['link', 'del', bridge]);
      removeUnusedHostportChains(chainsBefore);
      if (forwardBefore === '0') fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return h;
}

/** 10.123.<n>.0/24 that no route of the host overlaps. */
export function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const n = Math.floor(Math.random() * 250) + 1;
    if (!routes.includes(`10.123.${n}.`)) return `10.123.${n}.0/24`;
  }
  throw new Error('Cannot find a free 10.123.x.0/24 for the test network');
}

export function natChainExists(chain: string): boolean {
  return run('iptables', ['-w', '-t', 'nat', '-S', chain]) !== undefined;
}

/** The rules of a nat chain, minus its "-N" line; [] when the chain does not exist. */
export function natRules(chain: string): string[] {
  return (run('iptables', ['-w', '-t', 'nat', '-S', chain]) ?? '')
    .split('\n')
    .filter((l) => l.startsWith('-A'));
}

/**
 * portmap creates three shared chains (and jumps to them) the first time it maps a port and never
 * deletes them: DEL only removes the pod's own CNI-DN-* chain and its jump. Remove the shared ones
 * when this test created them and no pod uses them any more.
 */
function removeUnusedHostportChains(before: Set<string>): void {
  if (before.has('CNI-HOSTPORT-DNAT') || natRules('CNI-HOSTPORT-DNAT').length > 0) return;
  for (const parent of ['PREROUTING', 'OUTPUT', 'POSTROUTING']) {
    for (const rule of natRules(parent)) {
      if (!HOSTPORT_CHAINS.some((c) => rule.includes(`-j ${c}`))) continue;
      run('iptables', ['-w', '-t', 'nat', ...splitRule(rule.replace(/^-A/, '-D'))]);
    }
  }
  for (const chain of HOSTPORT_CHAINS) {
    if (before.has(chain)) continue;
    run('iptables', ['-w', '-t', 'nat', '-F', chain]);
    run('iptables', ['-w', '-t', 'nat', '-X', chain]);
  }
}

/** iptables -S output back into arguments (comments come quoted). */
function splitRule(rule: string): string[] {
  return (rule.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"(.*)"$/, '$1'));
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

export { removeNetns };
