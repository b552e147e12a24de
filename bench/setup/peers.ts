// The two runtimes under test, side by side: Debian's containerd + runc (the harness of
// test/support, plus registry mirrors) and a nodelet daemon from dist/, both in temporary roots,
// both pulling from the one bench registry.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Containerd, startContainerd } from '../../test/support/containerd';
import { criClient, TestCriClient } from '../../test/support/cri_client';
import { startDaemon, TestDaemon } from '../../test/support/daemon';
import { MIRRORED_HOSTS, TestRegistry } from '../../test/support/registry';
import type { RuntimeName } from '../lib/stats';

export interface Peer {
  name: RuntimeName;
  endpoint: string;
  cri: TestCriClient;
  /** Pids whose process trees make up the runtime (daemon, monitor, keeper / containerd, shims). */
  rootPids(): number[];
  stop(): Promise<void>;
}

/**
 * The harness writes containerd's config and spawns `containerd` by name; a wrapper first on PATH
 * appends the registry mirrors to that config, so the harness stays the one description of how
 * containerd runs here.
 */
function containerdMirrorWrapper(dir: string, registryHost: string): string {
  const extra = path.join(dir, 'mirrors.toml');
  fs.writeFileSync(
    extra,
    MIRRORED_HOSTS.map(
      (h) =>
        `\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."${h}"]\n` +
        `  endpoint = ["http://${registryHost}"]\n`,
    ).join(''),
  );
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(
    path.join(bin, 'containerd'),
    `#!/bin/sh\n# $2 is the config file the harness passes with --config\ncat '${extra}' >> "$2"\nexec /usr/bin/containerd "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/** Pids of the shims of one containerd (their command line names its socket). */
function shimsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('containerd-shim') && argv.includes(socket)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export async function startContainerdPeer(registry: TestRegistry): Promise<Peer> {
  const wrapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-ctdbin-'));
  const savedPath = process.env.PATH;
  process.env.PATH = `${containerdMirrorWrapper(wrapDir, registry.host)}:${savedPath}`;
  let ctd: Containerd;
  try {
    ctd = await startContainerd({ withTestImages: true });
  } finally {
    process.env.PATH = savedPath;
    fs.rmSync(wrapDir, { recursive: true, force: true });
  }
  const cri = criClient(ctd.endpoint);
  return {
    name: 'containerd',
    endpoint: ctd.endpoint,
    cri,
    rootPids: () => [ctd.pid, ...shimsOf(ctd.socket)],
    stop: async () => {
      cri.close();
      await ctd.stop();
    },
  };
}

function lockPid(runDir: string, lock: string): number[] {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, lock), 'utf8').trim());
    return pid > 0 ? [pid] : [];
  } catch {
    return [];
  }
}

export async function startNodeletPeer(
  registry: TestRegistry,
  options: { execPath?: string } = {},
): Promise<Peer> {
  // BENCH_NODELET_REGISTRY: keys of the registry section to compare, e.g. '{"nativeDecompress":"off"}'.
  const extra = JSON.parse(process.env.BENCH_NODELET_REGISTRY ?? '{}') as Record<string, unknown>;
  const daemon: TestDaemon = await startDaemon({
    config: { registry: { ...registry.mirrorConfig(), ...extra } },
    execPath: options.execPath,
  });
  const cri = criClient(daemon.endpoint);
  return {
    name: 'nodelet',
    endpoint: daemon.endpoint,
    cri,
    rootPids: () => [
      daemon.proc.pid!,
      ...lockPid(daemon.runDir, 'monitor.lock'),
      ...lockPid(daemon.runDir, 'keeper.lock'),
    ],
    stop: async () => {
      await removeAllPods(cri).catch(() => undefined);
      cri.close();
      await daemon.stop();
      await daemon.cleanup();
    },
  };
}

/** Stops and removes every pod of a runtime (the harness does it for containerd on its own). */
export async function removeAllPods(cri: TestCriClient): Promise<void> {
  const { items } = await cri.runtime<{ items: { id: string }[] }>('ListPodSandbox', {}, 60_000);
  for (const pod of items) {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, 60_000).catch(() => undefined);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000).catch(() => undefined);
  }
}
