// Starts the upstream kubelet (scripts/install-kube-tools.sh builds it) against a nodelet daemon,
// with its root dir, static pod path, certificates, pod logs and config in one temp dir and its
// cgroups under a test-only root. stop() stops it, removes every pod it made through the CRI,
// unmounts what it mounted, removes its cgroups and puts the kernel tunables back.
//
//   const k = await startKubelet({ endpoint: daemon.endpoint });
//   fs.writeFileSync(path.join(k.manifestDir, 'web.yaml'), manifest);
//   ...
//   await k.stop();
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { removeAllPods } from '../../support/cri_client';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { createCgroupRoot, guardKernelTunables, removeContainerLogLinks } from './host';
import { kubeletConfig } from './kubelet_config';

/** The kubelet binary; NODELET_KUBELET points at another build. */
export const KUBELET_BIN = process.env.NODELET_KUBELET ?? '/usr/local/bin/nodelet-kubelet';

export function kubeletInstalled(): boolean {
  return fs.existsSync(KUBELET_BIN);
}

export interface KubeletOptions {
  /** nodelet's CRI endpoint, unix:///… */
  endpoint: string;
  nodeName?: string;
  /** Connected mode: the kubeconfig the kubelet registers with, and its API's client CA. */
  kubeconfig?: string;
  clientCaFile?: string;
  /** The node IP, also where the kubelet API listens; loopback when standalone. */
  nodeIp?: string;
  /** Another copy of the kubelet binary (the bench runs two kubelets that must not share pages). */
  binary?: string;
}

export interface TestKubelet {
  dir: string;
  nodeName: string;
  manifestDir: string;
  rootDir: string;
  podLogsDir: string;
  cgroupRoot: string;
  /** The kubelet API (https, self-signed). */
  port: number;
  address: string;
  proc: ChildProcess;
  /** Writes a static pod manifest whole (a temp name the kubelet ignores, then a rename). */
  addManifest(name: string, yaml: string): void;
  /** The kubelet's own log so far. */
  logs(): string;
  /** Stops the kubelet, then removes all it left: pods (via CRI), mounts, cgroups, files. */
  stop(): Promise<void>;
}

export async function startKubelet(options: KubeletOptions): Promise<TestKubelet> {
  const binary = options.binary ?? KUBELET_BIN;
  if (!fs.existsSync(binary)) throw new Error(`Cannot find ${binary}: run scripts/install-kube-tools.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kubelet-'));
  const tag = crypto.randomBytes(3).toString('hex');
  const nodeName = options.nodeName ?? `nodelet-kubelet-${tag}`;
  const paths = {
    manifestDir: path.join(dir, 'manifests'),
    rootDir: path.join(dir, 'root'),
    certDir: path.join(dir, 'pki'),
    podLogsDir: path.join(dir, 'pod-logs'),
    config: path.join(dir, 'kubelet.yaml'),
    log: path.join(dir, 'kubelet.log'),
  };
  for (const d of [paths.manifestDir, paths.rootDir, paths.certDir, paths.podLogsDir]) fs.mkdirSync(d);
  const cgroupRoot = `/nodelet-kubelet-${tag}`;
  const address = options.nodeIp ?? '127.0.0.1';
  const [port, healthzPort] = [await freePort(), await freePort()];
  const config = kubeletConfig({
    endpoint: options.endpoint,
    staticPodPath: paths.manifestDir,
    podLogsDir: paths.podLogsDir,
    cgroupRoot,
    address,
    port,
    healthzPort,
    clientCaFile: options.clientCaFile,
  });
  fs.writeFileSync(paths.config, YAML.stringify(config));

  createCgroupRoot(cgroupRoot);
  const releaseTunables = guardKernelTunables(tag);
  const args = [
    `--config=${paths.config}`,
    `--root-dir=${paths.rootDir}`,
    `--cert-dir=${paths.certDir}`,
    `--hostname-override=${nodeName}`,
    '--v=2',
    ...(options.nodeIp ? [`--node-ip=${options.nodeIp}`] : []),
    ...(options.kubeconfig ? [`--kubeconfig=${options.kubeconfig}`] : []),
  ];
  const out = fs.openSync(paths.log, 'a');
  const proc = spawn(binary, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const logs = () => fs.readFileSync(paths.log, 'utf8');
  const addManifest = (name: string, yaml: string) => {
    const temp = path.join(paths.manifestDir, `.${name}.tmp`);
    fs.writeFileSync(temp, yaml);
    fs.renameSync(temp, path.join(paths.manifestDir, name));
  };

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    // The kubelet leaves its pods running when it exits, as on a real node: remove them here.
    await removeAllPods(options.endpoint);
    await unmountUnder(dir);
    removeCgroupTree(cgroupRoot);
    releaseTunables();
    removeContainerLogLinks(paths.podLogsDir);
    // For the record (docs/kubelet.md) or a failed run: the log survives its temp dir when asked.
    const keep = process.env.NODELET_KUBELET_KEEP_LOG;
    if (keep) fs.copyFileSync(paths.log, path.join(keep, `kubelet-${nodeName}.log`));
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitHealthy(healthzPort, proc, logs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, nodeName, ...paths, cgroupRoot, port, address, proc, addManifest, logs, stop };
}

async function waitHealthy(port: number, proc: ChildProcess, logs: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (proc.exitCode !== null || Date.now() > until) {
      throw new Error(`The kubelet did not become healthy (exit ${proc.exitCode}):\n${logs().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
