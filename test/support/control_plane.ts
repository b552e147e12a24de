// A throwaway Kubernetes control plane for tests: a real etcd and kube-apiserver on loopback, in a
// temp dir, with their own CA. Identities are client certificates, so a test can mint one for any
// user and groups (a node's `system:node:<name>` in `system:nodes`, say) after the server started.
// Built by scripts/install-kube-tools.sh; there is no controller-manager, so no service-account
// tokens, no garbage collection and no node lifecycle controller.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const KUBE_TOOLS = {
  etcd: '/usr/local/bin/nodelet-etcd',
  apiserver: '/usr/local/bin/nodelet-kube-apiserver',
  kubectl: '/usr/local/bin/nodelet-kubectl',
  kubelet: '/usr/local/bin/nodelet-kubelet',
  scheduler: '/usr/local/bin/nodelet-kube-scheduler',
  controllerManager: '/usr/local/bin/nodelet-kube-controller-manager',
};

export function controlPlaneInstalled(): boolean {
  return [KUBE_TOOLS.etcd, KUBE_TOOLS.apiserver, KUBE_TOOLS.kubectl].every((f) => fs.existsSync(f));
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The CA of the apiserver's serving certificate (and of every client certificate). */
  caFile: string;
  dir: string;
  /** User `admin` in `system:masters`. */
  adminKubeconfig: string;
  /** A kubeconfig with a fresh client certificate for `user` in `groups`. */
  kubeconfigFor(user: string, groups?: string[]): string;
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  /** What the apiserver presents to kubelets; `caFile` verifies it (a kubelet's --client-ca-file). */
  kubeletClient: { certFile: string; keyFile: string; caFile: string };
  /** Where etcd, the apiserver (and the scheduler) write their logs. */
  logFiles: string[];
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Also run a kube-scheduler, so pods without spec.nodeName get bound. */
  scheduler?: boolean;
  /**
   * Also run a kube-controller-manager with only the CSR controllers (approving, signing with the
   * test CA, cleaner): a kubelet's TLS bootstrap and certificate rotation. `signingDuration` is the
   * lifetime of what it signs (its --cluster-signing-duration).
   */
  csrControllers?: { signingDuration?: string };
  timeoutMs?: number;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  if (!controlPlaneInstalled()) {
    throw new Error('Cannot start a control plane: run scripts/install-kube-tools.sh');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kube-'));
  const procs: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const proc of procs.reverse()) await stopProcess(proc);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = new Pki(path.join(dir, 'pki'));
    const [etcdClient, etcdPeer, securePort] = await Promise.all([freePort(), freePort(), freePort()]);
    const logFiles: string[] = [];
    const launch = (name: string, bin: string, args: string[]): void => {
      const logFile = path.join(dir, `${name}.log`);
      logFiles.push(logFile);
      const out = fs.openSync(logFile, 'a');
      procs.push(spawn(bin, args, { stdio: ['ignore', out, out] }));
      fs.closeSync(out);
    };

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    launch('etcd', KUBE_TOOLS.etcd, [
      '--name=default',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true',
    ]);

    const serving = pki.issue('kube-apiserver', [], ['127.0.0.1', '10.0.0.1'], ['localhost', 'kubernetes']);
    const kubeletClient = pki.issue('kube-apiserver-kubelet-client', ['system:masters']);
    const saKey = pki.serviceAccountKey();
    launch('kube-apiserver', KUBE_TOOLS.apiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${serving.certFile}`,
      `--tls-private-key-file=${serving.keyFile}`,
      `--client-ca-file=${pki.caFile}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--disable-admission-plugins=ServiceAccount',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      `--kubelet-client-certificate=${kubeletClient.certFile}`,
      `--kubelet-client-key=${kubeletClient.keyFile}`,
      // Bootstrap tokens (Secrets in kube-system) authenticate as kubeadm's do.
      '--enable-bootstrap-token-auth=true',
      '--kubelet-preferred-address-types=InternalIP,Hostname',
    ]);

    const url = `https://127.0.0.1:${securePort}`;
    const kubeconfigFor = (user: string, groups: string[] = []): string => {
      const cred = pki.issue(user, groups);
      const file = path.join(dir, 'kubeconfigs', `${user.replace(/[^A-Za-z0-9.-]/g, '_')}.yaml`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, kubeconfig(url, pki.caFile, user, cred.certFile, cred.keyFile));
      return file;
    };
    const adminKubeconfig = kubeconfigFor('admin', ['system:masters']);
    const kubectl = (args: string[], input?: string): Promise<CommandResult> =>
      run(KUBE_TOOLS.kubectl, ['--kubeconfig', adminKubeconfig, ...args], input);

    await waitReady(url, pki.caFile, kubectl, options.timeoutMs ?? 120_000, logFiles);

    if (options.scheduler) {
      launch('kube-scheduler', KUBE_TOOLS.scheduler, [
        `--kubeconfig=${kubeconfigFor('system:kube-scheduler')}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
      ]);
    }

    if (options.csrControllers) {
      // The controllers' own identity in system:masters: the test does not run the token controller
      // that --use-service-account-credentials would need.
      launch('kube-controller-manager', KUBE_TOOLS.controllerManager, [
        `--kubeconfig=${kubeconfigFor('system:kube-controller-manager', ['system:masters'])}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        '--controllers=csrapproving,csrsigning,csrcleaner',
        `--cluster-signing-cert-file=${pki.caFile}`,
        `--cluster-signing-key-file=${pki.caKeyFile}`,
        `--cluster-signing-duration=${options.csrControllers.signingDuration ?? '24h'}`,
      ]);
    }

    return {
      url,
      caFile: pki.caFile,
      dir,
      adminKubeconfig,
      kubeconfigFor,
      kubectl,
      kubeletClient: { ...kubeletClient, caFile: pki.caFile },
      logFiles,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A CA that signs serving and client certificates on demand, with the openssl CLI. */
class Pki {
  readonly caFile: string;
  private readonly caKey: string;
  get caKeyFile(): string {
    return this.caKey;
  }
  private serial = 1;

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.caFile = path.join(dir, 'ca.crt');
    this.caKey = path.join(dir, 'ca.key');
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=nodelet-test-ca'].concat([
        '-keyout',
        this.caKey,
        '-out',
        this.caFile,
      ]),
    );
  }

  issue(
    cn: string,
    groups: string[],
    ips: string[] = [],
    dns: string[] = [],
  ): { certFile: string; keyFile: string } {
    const base = path.join(this.dir, `${this.serial++}-${cn.replace(/[^A-Za-z0-9.-]/g, '_')}`);
    const keyFile = `${base}.key`;
    const certFile = `${base}.crt`;
    const subject = ['', ...groups.map((g) => `O=${g}`), `CN=${cn}`].join('/');
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      keyFile,
      '-out',
      `${base}.csr`,
    ]);
    const san = [...ips.map((ip) => `IP:${ip}`), ...dns.map((d) => `DNS:${d}`)];
    const ext = [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      `extendedKeyUsage=${san.length > 0 ? 'serverAuth,clientAuth' : 'clientAuth'}`,
      ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
    ];
    fs.writeFileSync(`${base}.ext`, ext.join('\n') + '\n');
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        this.caFile,
        '-CAkey',
        this.caKey,
        '-CAcreateserial',
      ].concat(['-days', '2', '-extfile', `${base}.ext`, '-out', certFile]),
    );
    return { certFile, keyFile };
  }

  serviceAccountKey(): string {
    const file = path.join(this.dir, 'service-account.key');
    openssl(['genrsa', '-out', file, '2048']);
    return file;
  }
}

function openssl(args: string[]): void {
  const res = spawnSync('openssl', args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`openssl ${args[0]} failed: ${res.stderr}`);
}

function kubeconfig(server: string, ca: string, user: string, cert: string, key: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: user, user: { 'client-certificate': cert, 'client-key': key } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user } }],
    'current-context': 'test',
  });
}

async function waitReady(
  url: string,
  ca: string,
  kubectl: (args: string[]) => Promise<CommandResult>,
  timeoutMs: number,
  logFiles: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await httpsStatus(`${url}/readyz`, ca)) === 200) {
      const ns = await kubectl(['get', 'namespace', 'default', 'kube-node-lease', '-o', 'name']);
      if (ns.code === 0) return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const tail = logFiles.map((f) => `--- ${f}\n${fs.readFileSync(f, 'utf8').slice(-3000)}`).join('\n');
  throw new Error(`Cannot start the control plane: not ready after ${timeoutMs} ms\n${tail}`);
}

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: fs.readFileSync(ca), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

export function run(bin: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: stderr + String(err) }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A command that exits without reading its input (mount) closes the pipe first: EPIPE here is
    // no error of the test's, the exit status says how the command went.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}
