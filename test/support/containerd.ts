// A throwaway containerd (Debian's 1.6, CRI plugin, runc, cgroupfs) in a temporary root, with its own
// socket, state, CNI network (a uniquely named bridge) and locally built busybox and pause images:
// the real CRI peer for the agent's tests and the benchmarks. No internet is needed.
//
//   const ctd = await startContainerd();            // ctd.endpoint = unix:///tmp/…/containerd.sock
//   await importImage(ctd, await buildBusyboxImage(ctd.root, { name: 'localhost/x/busybox:1' }));
//   …
//   await ctd.stop();                                // pods removed, containerd stopped, nothing left
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CriClient } from '../../src/agent/cri_client';

const run = promisify(execFile);

export const TEST_BUSYBOX_IMAGE = 'localhost/nodelet-test/busybox:1';
export const TEST_PAUSE_IMAGE = 'localhost/nodelet-test/pause:1';

export interface Containerd {
  /** The CRI endpoint, `unix://<root>/containerd.sock`. */
  endpoint: string;
  socket: string;
  root: string;
  /** The name of the CNI bridge this containerd's pods attach to. */
  bridge: string;
  pid: number;
  /** Removes every pod through CRI, stops containerd and its shims, unmounts and deletes the root. */
  stop(): Promise<void>;
}

export interface StartContainerdOptions {
  /** A directory to own (it is deleted by stop()); a fresh temp dir when absent. */
  root?: string;
  /** Import the busybox and pause test images before returning (default true). */
  withTestImages?: boolean;
}

// The configuration scripts/cluster.sh gives its kubelet-containerd nodes too.
const CONFIG_TEMPLATE = path.resolve(__dirname, '..', '..', 'scripts', 'cluster', 'containerd.toml');

function configToml(root: string, socket: string): string {
  const values: Record<string, string> = {
    ROOT: `${root}/root`,
    STATE: `${root}/state`,
    SOCKET: socket,
    SANDBOX_IMAGE: TEST_PAUSE_IMAGE,
    CNI_CONF_DIR: `${root}/cni/net.d`,
  };
  return fs
    .readFileSync(CONFIG_TEMPLATE, 'utf8')
    .replace(/@([A-Z_]+)@/g, (_, name: string) => values[name] ?? `@${name}@`);
}

function cniConflist(root: string, bridge: string): string {
  // A subnet of its own per instance, so parallel containerds never hand out the same address.
  const octet = 100 + (randomBytes(1)[0] % 150);
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: bridge,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipMasq: false,
          ipam: {
            type: 'host-local',
            dataDir: `${root}/cni/ipam`,
            ranges: [[{ subnet: `10.${octet}.${randomBytes(1)[0]}.0/24` }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
      ],
    },
    null,
    2,
  );
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Cannot start containerd: ${what} did not happen within ${timeoutMs} ms`);
}

export async function startContainerd(options: StartContainerdOptions = {}): Promise<Containerd> {
  const root = options.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-ctd-'));
  const socket = path.join(root, 'containerd.sock');
  const bridge = `nlt${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(path.join(root, 'cni', 'net.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'config.toml'), configToml(root, socket));
  fs.writeFileSync(path.join(root, 'cni', 'net.d', '10-nodelet-test.conflist'), cniConflist(root, bridge));
  const logFd = fs.openSync(path.join(root, 'containerd.log'), 'a');
  const child: ChildProcess = spawn('containerd', ['--config', path.join(root, 'config.toml')], {
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `unix://${socket}`;
  const handle: Containerd = {
    endpoint,
    socket,
    root,
    bridge,
    pid: child.pid!,
    stop: () => stopContainerd(handle, child, exited),
  };
  try {
    const client = new CriClient(endpoint, { timeoutMs: 2000 });
    try {
      await waitFor('the CRI Version call', async () => (await client.version()).runtime_name !== '');
    } finally {
      client.close();
    }
    if (options.withTestImages ?? true) {
      await importImage(handle, await buildBusyboxImage(root, { name: TEST_BUSYBOX_IMAGE }));
      await importImage(
        handle,
        await buildBusyboxImage(root, {
          name: TEST_PAUSE_IMAGE,
          entrypoint: ['/bin/sleep'],
          cmd: ['2147483647'],
        }),
      );
    }
  } catch (err) {
    await handle.stop();
    const log = fs.existsSync(path.join(root, 'containerd.log'))
      ? fs.readFileSync(path.join(root, 'containerd.log'), 'utf8').slice(-2000)
      : '';
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return handle;
}

export interface BuildImageOptions {
  name: string;
  entrypoint?: string[];
  cmd?: string[];
}

/** Builds a one-layer image from Debian's busybox-static and writes it as a docker-archive tar. */
export async function buildBusyboxImage(
  workDir: string,
  options: BuildImageOptions,
): Promise<{ tar: string; name: string }> {
  const dir = fs.mkdtempSync(path.join(workDir, 'image-'));
  const layout = path.join(dir, 'oci');
  const bundle = path.join(dir, 'bundle');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:img`]);
  await run('umoci', ['unpack', '--rootless', '--image', `${layout}:img`, bundle]);
  const rootfs = path.join(bundle, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'var/log', 'root']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  }
  fs.writeFileSync(
    path.join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n',
  );
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await run('umoci', ['repack', '--image', `${layout}:img`, bundle]);
  const config = ['config', '--image', `${layout}:img`, '--config.env', 'PATH=/bin'];
  if (options.entrypoint) config.push(...options.entrypoint.flatMap((e) => ['--config.entrypoint', e]));
  config.push(...(options.cmd ?? ['sh']).flatMap((c) => ['--config.cmd', c]));
  await run('umoci', config);
  const tar = path.join(dir, 'image.tar');
  await run('skopeo', ['copy', '--quiet', `oci:${layout}:img`, `docker-archive:${tar}:${options.name}`]);
  fs.rmSync(bundle, { recursive: true, force: true });
  return { tar, name: options.name };
}

/** Imports an image archive into the k8s.io namespace, where the CRI plugin sees it. */
export async function importImage(ctd: Pick<Containerd, 'socket'>, image: { tar: string }): Promise<void> {
  await run('ctr', [
    '--address',
    ctd.socket,
    '-n',
    'k8s.io',
    'images',
    'import',
    '--no-unpack=false',
    image.tar,
  ]);
}

async function removeAllPods(endpoint: string): Promise<void> {
  const client = new CriClient(endpoint, { timeoutMs: 30_000 });
  try {
    const { items } = await client.listPodSandbox();
    for (const pod of items) {
      await client.stopPodSandbox(pod.id).catch(() => undefined);
      await client.removePodSandbox(pod.id).catch(() => undefined);
    }
  } finally {
    client.close();
  }
}

/** Pids of the shims this containerd started (their command line names our socket). */
function ourShims(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0]?.includes('containerd-shim') && cmdline.includes(socket)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

async function stopContainerd(ctd: Containerd, child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    await removeAllPods(ctd.endpoint).catch(() => undefined);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  for (const pid of ourShims(ctd.socket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await unmountUnder(ctd.root);
  await run('ip', ['link', 'del', ctd.bridge]).catch(() => undefined);
  fs.rmSync(ctd.root, { recursive: true, force: true });
}

/** Unmounts everything mounted at or below dir, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
}

/** Removes a cgroup subtree (empty directories, deepest first) in every v1 hierarchy. */
export function removeCgroupTree(relative: string): void {
  const base = '/sys/fs/cgroup';
  for (const controller of fs.readdirSync(base)) {
    const top = path.join(base, controller, relative);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of fs.readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(path.join(d, e.name));
    };
    walk(top);
    for (const d of dirs.reverse()) fs.rmdirSync(d);
  }
}
