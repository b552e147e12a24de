// A daemon killed -9, whose records of one pod are then lost, sweeps at its next start everything
// that pod left on the host: its container process (through the monitor) and the monitor's FIFOs,
// its CNI network (IPAM lease and veth), its pod PID init, its pinned namespaces, its /dev/shm
// tmpfs, its cgroups, its per-id directories. Half-made records are finished: a pod whose network
// namespace is gone turns NOTREADY, a created container whose init is gone turns EXITED (Unknown),
// one the monitor started before the daemon could record it turns RUNNING.
// Pods with records are untouched and still usable.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { criClient } from '../../support/cri_client';
import { startDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

jest.setTimeout(300_000);

let env: CriEnv | undefined;
let logs: string;
let kubeParent = '';
let ownParent = '';

beforeAll(async () => {
  env = await startCriEnv();
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-sweeplogs-'));
});

afterAll(async () => {
  // Only a failed sweep leaves these; without it the temp root could not be removed.
  if (env) killAndUnmountUnder(env.daemon.root);
  await stopCriEnv(env);
  fs.rmSync(logs, { recursive: true, force: true });
  // The kubelet-style parent belongs to the test, not to nodelet: the test removes it.
  for (const cgroup of [ownParent, kubeParent].filter(Boolean)) {
    for (const dir of cgroupDirs(cgroup)) removeCgroupTree(dir);
  }
});

/** Kills the PID 1 of every pinned pod PID namespace under root, then lazily unmounts everything there. */
function killAndUnmountUnder(root: string): void {
  const nsDir = path.join(root, 'run', 'ns');
  for (const pod of fs.existsSync(nsDir) ? fs.readdirSync(nsDir) : []) {
    const pin = path.join(nsDir, pod, 'pid');
    if (!mountPointsUnder(root).includes(pin)) continue;
    const ino = fs.statSync(pin).ino;
    for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        if (fs.statSync(`/proc/${pid}/ns/pid`).ino === ino) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone, or not ours to look at
      }
    }
  }
  for (const point of mountPointsUnder(root).sort((a, b) => b.length - a.length)) {
    spawnSync('umount', ['-l', point]);
  }
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where a cgroup exists, over every hierarchy of the host. */
function cgroupDirs(cgroup: string): string[] {
  return fs
    .readdirSync(CGROUP_ROOT)
    .map((tree) => path.join(CGROUP_ROOT, tree, cgroup))
    .filter((dir) => fs.existsSync(dir));
}

function removeCgroupTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  }
  fs.rmdirSync(dir);
}

function mountPointsUnder(root: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.startsWith(root + '/'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}

/** One request to the node monitor on its socket, as the daemon's client sends it. */
function monitorRequest(runDir: string, op: string, params: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection({ path: path.join(runDir, 'monitor.sock') });
    let answer = '';
    conn.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\n')) {
        conn.destroy();
        resolve();
      }
    });
    conn.once('error', reject);
    conn.once('connect', () => conn.write(JSON.stringify({ v: 1, id: 1, op, params }) + '\n'));
  });
}

/** The daemon's structured log lines that say it swept something. */
function sweptLines(text: string): { kind: string; id?: string; path?: string }[] {
  return text
    .split('\n')
    .filter((l) => l.includes('"swept"') || l.includes('swept'))
    .flatMap((l) => {
      try {
        const o = JSON.parse(l) as { kind?: string; id?: string; path?: string; msg?: string };
        return o.kind && o.msg?.startsWith('swept') ? [{ kind: o.kind, id: o.id, path: o.path }] : [];
      } catch {
        return [];
      }
    });
}

test('a restart sweeps what a pod without records left behind, and leaves pods with records usable', async () => {
  let { daemon, cri } = env!;
  const config = YAML.parse(fs.readFileSync(path.join(daemon.root, 'config.yaml'), 'utf8')) as {
    cgroupParent: string;
  };
  ownParent = config.cgroupParent;
  kubeParent = `${config.cgroupParent}-kube`;

  const podConfig = (name: string, extra: object = {}) => ({
    metadata: { name, namespace: 'sweep', uid: `uid-${name}`, attempt: 0 },
    log_directory: logs,
    ...extra,
  });
  const runPod = async (config: object) =>
    (await cri.runtime<{ pod_sandbox_id: string }>('RunPodSandbox', { config }, 60_000)).pod_sandbox_id;
  const createContainer = async (podId: string, config: object, name: string, command: string[]) =>
    (
      await cri.runtime<{ container_id: string }>(
        'CreateContainer',
        {
          pod_sandbox_id: podId,
          config: { metadata: { name }, image: { image: BUSYBOX }, command, log_path: `${name}.log` },
          sandbox_config: config,
        },
        60_000,
      )
    ).container_id;

  // Kept: a running container in a pod whose cgroup parent the "kubelet" gave, and a created one.
  const keepConfig = podConfig('keep', { linux: { cgroup_parent: `${kubeParent}/poduid-keep` } });
  const keep = await runPod(keepConfig);
  const keepRunning = await createContainer(keep, keepConfig, 'server', ['sleep', '3600']);
  await cri.runtime('StartContainer', { container_id: keepRunning }, 60_000);
  const neverStarted = await createContainer(keep, keepConfig, 'idle', ['sleep', '3600']);
  // Started by the monitor, but the daemon dies before its record says so.
  const startCutShort = await createContainer(keep, keepConfig, 'late', ['sleep', '3600']);
  // Kept too, but its network namespace will be lost while the daemon is down.
  const lost = await runPod(podConfig('lost'));

  // Swept: a pod with a shared PID namespace (so a catatonit), a network and a running container.
  const goneConfig = podConfig('gone', {
    linux: { security_context: { namespace_options: { pid: 'POD' } } },
  });
  const gone = await runPod(goneConfig);
  const goneContainer = await createContainer(gone, goneConfig, 'worker', ['sleep', '3600']);
  await cri.runtime('StartContainer', { container_id: goneContainer }, 60_000);

  const { stateDir, runDir, root } = daemon;
  const podRecord = JSON.parse(
    fs.readFileSync(path.join(stateDir, 'records', 'sandboxes', `${gone}.json`), 'utf8'),
  ) as { pidInit: number; shmPath: string; cgroupParent: string; namespaces: Record<string, string> };
  const containerPid = (
    JSON.parse(fs.readFileSync(path.join(runDir, 'containers', goneContainer, 'state.json'), 'utf8')) as {
      pid: number;
    }
  ).pid;
  const cniResult = JSON.parse(
    fs.readFileSync(path.join(stateDir, 'cni', 'results', `${gone}.json`), 'utf8'),
  ) as {
    result: { interfaces: { name: string; sandbox?: string }[] };
  };
  const hostVeth = cniResult.result.interfaces.find((i) => !i.sandbox && i.name.startsWith('veth'))?.name;
  const leases = () =>
    fs
      .readdirSync(path.join(stateDir, 'cni', 'networks'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .filter((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8').includes(gone));
  // A container cgroup under the kubelet's pod parent, named as nodelet names them, that no record has,
  // and one nodelet did not make (any other name).
  const strayId = 'f'.repeat(64);
  const anyTree = cgroupDirs(`${kubeParent}/poduid-keep`)[0];
  fs.mkdirSync(path.join(anyTree, strayId));
  fs.mkdirSync(path.join(anyTree, 'not-ours'));

  expect(alive(podRecord.pidInit)).toBe(true);
  expect(alive(containerPid)).toBe(true);
  expect(hostVeth && linkExists(hostVeth)).toBe(true);
  expect(leases()).toHaveLength(1);
  expect(mountPointsUnder(root).filter((p) => p.includes(gone)).length).toBeGreaterThan(0);
  expect(cgroupDirs(podRecord.cgroupParent).length).toBeGreaterThan(0);

  // The crash, then the records of the 'gone' pod are lost; 'lost' loses its network namespace pin,
  // and the monitor forgets the never-started container.
  cri.close();
  daemon.proc.kill('SIGKILL');
  await daemon.stop();
  fs.rmSync(path.join(stateDir, 'records', 'sandboxes', `${gone}.json`));
  fs.rmSync(path.join(stateDir, 'records', 'containers', `${goneContainer}.json`));
  const lostNetns = path.join(runDir, 'ns', lost, 'network');
  expect(spawnSync('umount', [lostNetns]).status).toBe(0);
  fs.rmSync(lostNetns);
  await monitorRequest(runDir, 'remove', { id: neverStarted });
  await monitorRequest(runDir, 'start', { id: startCutShort });
  // What a CreateContainer killed after the root and the cgroup leaves in a pod that has a record.
  const cutCreate = 'e'.repeat(64);
  const cutRoot = path.join(stateDir, 'containers', cutCreate, 'rootfs');
  fs.mkdirSync(cutRoot, { recursive: true });
  expect(spawnSync('mount', ['-t', 'tmpfs', 'cut', cutRoot]).status).toBe(0);
  const cutCgroup = path.join(cgroupDirs(ownParent)[0], lost, cutCreate);
  fs.mkdirSync(cutCgroup, { recursive: true });

  daemon = await startDaemon({ root, timeoutMs: 60_000 });
  cri = criClient(daemon.endpoint);
  env = { ...env!, daemon, cri };

  // Everything of 'gone' is gone.
  expect(alive(containerPid)).toBe(false);
  expect(alive(podRecord.pidInit)).toBe(false);
  expect(fs.existsSync(path.join(runDir, 'containers', goneContainer))).toBe(false);
  expect(fs.existsSync(path.join(stateDir, 'cni', 'results', `${gone}.json`))).toBe(false);
  expect(leases()).toEqual([]);
  expect(linkExists(hostVeth!)).toBe(false);
  expect(fs.existsSync(path.join(runDir, 'ns', gone))).toBe(false);
  expect(mountPointsUnder(root).filter((p) => p.includes(gone))).toEqual([]);
  expect(cgroupDirs(podRecord.cgroupParent)).toEqual([]);
  expect(cgroupDirs(`${kubeParent}/poduid-keep/${strayId}`)).toEqual([]);
  expect(cgroupDirs(`${kubeParent}/poduid-keep/not-ours`)).toHaveLength(1);
  expect(fs.existsSync(cutCgroup)).toBe(false);
  expect(fs.existsSync(path.dirname(cutCgroup))).toBe(true);
  expect(fs.existsSync(path.join(stateDir, 'containers', cutCreate))).toBe(false);
  for (const dir of [
    path.join(stateDir, 'sandboxes', gone),
    path.join(runDir, 'sandboxes', gone),
    path.join(stateDir, 'containers', goneContainer),
  ]) {
    expect(fs.existsSync(dir)).toBe(false);
  }
  const swept = sweptLines(daemon.logs());
  const kinds = new Set(swept.map((s) => s.kind));
  for (const kind of [
    'monitor entry',
    'network',
    'pod PID init',
    'pinned namespaces',
    'mount',
    'cgroup',
    'directory',
  ]) {
    expect(kinds).toContain(kind);
  }
  expect(swept.some((s) => s.kind === 'network' && s.id === gone)).toBe(true);
  expect(swept.some((s) => s.kind === 'mount' && s.path === cutRoot)).toBe(true);
  expect(swept.some((s) => s.kind === 'monitor entry' && s.id === goneContainer)).toBe(true);
  // Nothing of a pod or container with a record was swept.
  for (const id of [keep, keepRunning, lost, startCutShort]) {
    expect(swept.filter((s) => s.id === id || (s.path?.includes(id) && !s.path.includes(cutCreate)))).toEqual(
      [],
    );
  }

  // Half-made records are finished, not left READY or CREATED with missing parts.
  const { items } = await cri.runtime<{ items: { id: string; state: string }[] }>('ListPodSandbox', {});
  expect(items.map((p) => [p.id, p.state]).sort()).toEqual(
    [
      [keep, 'SANDBOX_READY'],
      [lost, 'SANDBOX_NOTREADY'],
    ].sort(),
  );
  const { status: idle } = await cri.runtime<{
    status: { state: string; reason: string; exit_code: number };
  }>('ContainerStatus', { container_id: neverStarted });
  expect(idle).toMatchObject({ state: 'CONTAINER_EXITED', reason: 'Unknown', exit_code: 255 });
  expect(daemon.logs()).toContain(`"kind":"half-made pod","id":"${lost}"`);
  expect(daemon.logs()).toContain(`"kind":"half-made container","id":"${neverStarted}"`);
  const { status: late } = await cri.runtime<{ status: { state: string } }>('ContainerStatus', {
    container_id: startCutShort,
  });
  expect(late.state).toBe('CONTAINER_RUNNING');

  // The pod with records still works.
  const exec = await cri.runtime<{ stdout: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: keepRunning, cmd: ['echo', 'still here'], timeout: 30 },
    60_000,
  );
  expect(exec.exit_code).toBe(0);
  expect(Buffer.from(exec.stdout).toString()).toBe('still here\n');
  expect(fs.existsSync(path.join(runDir, 'ns', keep, 'network'))).toBe(true);

  // And once every pod is removed, nothing of them remains.
  for (const id of [keep, lost]) {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: id }, 60_000);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id }, 60_000);
  }
  expect(mountPointsUnder(root)).toEqual([]);
  expect(fs.readdirSync(path.join(runDir, 'ns'))).toEqual([]);
});
