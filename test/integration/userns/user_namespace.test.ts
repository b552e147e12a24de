// Pods with a user namespace (CRI userns_options mode POD), as the kubelet asks for one for a pod
// with hostUsers: false: the pod's root is an unprivileged id range of the host, the image is seen
// through idmapped mounts (never chowned), and volumes are idmapped only when the CRI mount says so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../../support/cri_client';
import type { TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';
import { crictlFor } from '../../support/crictl';

const HOST_ID = 2 ** 17; // 131072, a 65536-aligned range as the kubelet picks
const MAPPING = [{ container_id: 0, host_id: HOST_ID, length: 65536 }];
const USERNS = { mode: 'POD', uids: MAPPING, gids: MAPPING };

let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let host: string;

jest.setTimeout(240_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ daemon, cri } = env);
  host = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-userns-'));
  fs.chmodSync(host, 0o755);
});

afterAll(async () => {
  await stopCriEnv(env);
  if (host) fs.rmSync(host, { recursive: true, force: true });
});

/** As the kubelet sends it: PID mode CONTAINER unless the pod shares its PID namespace. */
function podConfig(name: string, userns: object = USERNS, pid = 'CONTAINER'): object {
  return {
    metadata: { name, namespace: 'userns', uid: `uid-${name}`, attempt: 0 },
    linux: { security_context: { namespace_options: { pid, userns_options: userns } } },
  };
}

async function runPod(name: string, pid = 'CONTAINER'): Promise<{ pod: string; config: object }> {
  const config = podConfig(name, USERNS, pid);
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    60_000,
  );
  return { pod, config };
}

async function runContainer(name: string, mounts: object[] = [], pid = 'CONTAINER'): Promise<string> {
  const { pod, config } = await runPod(name, pid);
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name },
        image: { image: BUSYBOX },
        command: ['sleep', '3600'],
        mounts,
        linux: { security_context: { namespace_options: { userns_options: USERNS } } },
      },
      sandbox_config: config,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function sh(id: string, script: string): Promise<{ out: string; code: number }> {
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  return { out: Buffer.from(r.stdout).toString() + Buffer.from(r.stderr).toString(), code: r.exit_code };
}

async function ok(id: string, script: string): Promise<string> {
  const r = await sh(id, script);
  if (r.code !== 0) throw new Error(`'${script}' exited ${r.code}: ${r.out}`);
  return r.out.trim();
}

describe('a pod with a user namespace', () => {
  let id: string;
  let plain: string;
  let mapped: string;
  let rootFile: string;

  beforeAll(async () => {
    plain = path.join(host, 'plain');
    mapped = path.join(host, 'mapped');
    fs.mkdirSync(plain, { mode: 0o777 });
    fs.chmodSync(plain, 0o777);
    fs.mkdirSync(mapped, { mode: 0o755 });
    fs.writeFileSync(path.join(mapped, 'from-host'), 'host\n');
    rootFile = path.join(host, 'root-file');
    fs.writeFileSync(rootFile, 'root only\n', { mode: 0o644 });
    id = await runContainer('main', [
      { host_path: plain, container_path: '/plain' },
      { host_path: rootFile, container_path: '/root-file' },
      { host_path: mapped, container_path: '/mapped', uidMappings: MAPPING, gidMappings: MAPPING },
    ]);
  });

  test('its processes see the mapping in /proc/self/uid_map and run as root inside', async () => {
    expect((await ok(id, 'cat /proc/self/uid_map')).split(/\s+/)).toEqual(['0', String(HOST_ID), '65536']);
    expect((await ok(id, 'cat /proc/self/gid_map')).split(/\s+/)).toEqual(['0', String(HOST_ID), '65536']);
    expect(await ok(id, 'id -u')).toBe('0');
  });

  test('the image’s files are owned by root inside while the layers on disk stay unchanged', async () => {
    expect((await ok(id, 'ls -ln /bin/busybox')).split(/\s+/).slice(2, 4)).toEqual(['0', '0']);
    const snapshots = path.join(daemon.stateDir, 'snapshots');
    const onDisk = fs
      .readdirSync(snapshots)
      .map((s) => path.join(snapshots, s, 'fs', 'bin', 'busybox'))
      .filter((f) => fs.existsSync(f));
    expect(onDisk.length).toBeGreaterThan(0);
    for (const file of onDisk) expect(fs.statSync(file).uid).toBe(0);
    // What the pod's root writes in its root is its own: owned by 0 inside, the mapped id on disk
    // (in the container's writable layer, never in an image layer).
    await ok(id, 'echo x > /written-by-root && echo y >> /bin/busybox-copy-up-test || true');
    expect(await ok(id, 'ls -ln /written-by-root')).toMatch(/^\S+\s+\d+\s+0\s+0\s/);
    expect(await ok(id, 'ls -lnd /')).toMatch(/^\S+\s+\d+\s+0\s+0\s/);
  });

  test('a file it makes in a plain host volume is owned on the host by the mapped id', async () => {
    await ok(id, 'touch /plain/made-inside');
    const stat = fs.statSync(path.join(plain, 'made-inside'));
    expect([stat.uid, stat.gid]).toEqual([HOST_ID, HOST_ID]);
  });

  test('its root cannot write a host file owned by the host’s root', async () => {
    const r = await sh(id, 'echo changed >> /root-file');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Permission denied|Read-only/);
    expect(fs.readFileSync(rootFile, 'utf8')).toBe('root only\n');
    expect((await ok(id, 'ls -ln /root-file')).split(/\s+/).slice(2, 4)).toEqual(['65534', '65534']);
  });

  test('an idmapped volume shows the host’s root as its root, and writes land as the host’s root', async () => {
    expect((await ok(id, 'ls -ln /mapped/from-host')).split(/\s+/).slice(2, 4)).toEqual(['0', '0']);
    await ok(id, 'echo inside > /mapped/made-inside');
    const stat = fs.statSync(path.join(mapped, 'made-inside'));
    expect([stat.uid, stat.gid]).toEqual([0, 0]);
  });

  test('its root has no privilege over the host: CAP_MKNOD and CAP_CHOWN hold only inside', async () => {
    // Both are in the default capability set, and work in a container without a user namespace.
    const mknod = await sh(id, 'mknod /tmp/null c 1 3');
    expect(mknod.code).not.toBe(0);
    expect(mknod.out).toMatch(/Operation not permitted/);
    // An id past the mapping names nobody inside: the pod's root cannot give a file to it.
    const chown = await sh(id, 'touch /plain/chown-me && chown 70000 /plain/chown-me');
    expect(chown.code).not.toBe(0);
    expect(chown.out).toMatch(/Invalid argument|Operation not permitted/);
    expect(fs.statSync(path.join(plain, 'chown-me')).uid).toBe(HOST_ID);
  });

  test('its processes are not root on the host', async () => {
    const pod = (
      await cri.runtime<{ containers: { id: string; pod_sandbox_id: string }[] }>('ListContainers', {})
    ).containers.find((c) => c.id === id)?.pod_sandbox_id;
    const { info } = await cri.runtime<{ info: Record<string, string> }>('PodSandboxStatus', {
      pod_sandbox_id: pod,
      verbose: true,
    });
    const pin = (JSON.parse(info.info ?? '{}') as { namespaces: Record<string, string> }).namespaces
      .user as string;
    const userns = fs.statSync(pin).ino;
    const inside = fs.readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && fs.statSync(`/proc/${p}/ns/user`).ino === userns;
      } catch {
        return false;
      }
    });
    expect(inside.length).toBeGreaterThan(0); // sleep, at least
    for (const p of inside) {
      const uids = /^Uid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]?.split(/\s+/);
      expect(uids).toEqual([String(HOST_ID), String(HOST_ID), String(HOST_ID), String(HOST_ID)]);
    }
  });
});

test('a pod sharing one PID namespace gets it inside its user namespace, catatonit as its PID 1', async () => {
  const id = await runContainer('shared-pid', [], 'POD');
  expect((await ok(id, 'cat /proc/self/uid_map')).split(/\s+/)).toEqual(['0', String(HOST_ID), '65536']);
  expect(await ok(id, 'cat /proc/1/cmdline | tr "\\0" " "')).toMatch(/catatonit -P/);
  expect((await ok(id, 'ls -ln -d /proc/1')).split(/\s+/).slice(2, 4)).toEqual(['0', '0']);
});

test('crictl runs a pod whose config carries namespace_options.userns_options', () => {
  const crictl = (...args: string[]) => crictlFor(daemon.endpoint).must(args, { timeoutMs: 60_000 }).trim();
  const mapping = [{ container_id: 0, host_id: 3 * 65536, length: 65536 }];
  const pod = path.join(host, 'crictl-pod.json');
  const ctr = path.join(host, 'crictl-ctr.json');
  // crictl reads Go's JSON of the CRI types: enums are numbers (POD is 0, CONTAINER 1).
  fs.writeFileSync(
    pod,
    JSON.stringify({
      metadata: { name: 'crictl-userns', namespace: 'userns', uid: 'uid-crictl-userns', attempt: 0 },
      linux: {
        security_context: {
          namespace_options: { pid: 1, userns_options: { mode: 0, uids: mapping, gids: mapping } },
        },
      },
    }),
  );
  fs.writeFileSync(
    ctr,
    JSON.stringify({
      metadata: { name: 'crictl-userns' },
      image: { image: BUSYBOX },
      command: ['sleep', '3600'],
    }),
  );
  const podId = crictl('runp', pod);
  const id = crictl('create', podId, ctr, pod);
  crictl('start', id);
  expect(crictl('exec', id, 'cat', '/proc/self/uid_map').split(/\s+/)).toEqual(['0', '196608', '65536']);
  crictl('rmp', '-f', podId);
});

describe('user namespace options that cannot be made', () => {
  const refused = (name: string, userns: object) =>
    cri.runtime('RunPodSandbox', { config: podConfig(name, userns) }, 30_000);

  test('mode CONTAINER and TARGET are refused', async () => {
    await expect(refused('container-mode', { mode: 'CONTAINER' })).rejects.toMatchObject({
      code: 12, // UNIMPLEMENTED
      details: expect.stringMatching(/user namespace mode CONTAINER is not supported/),
    });
    await expect(refused('target-mode', { mode: 'TARGET' })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/user namespace mode TARGET is not supported/),
    });
  });

  test('more than one mapping, or one that does not start at container id 0, is refused', async () => {
    const two = [...MAPPING, { container_id: 0, host_id: 2 * HOST_ID, length: 65536 }];
    await expect(refused('two', { mode: 'POD', uids: two, gids: two })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/exactly one uid mapping, got 2/),
    });
    const shifted = [{ container_id: 1, host_id: HOST_ID, length: 65536 }];
    await expect(refused('shifted', { mode: 'POD', uids: shifted, gids: shifted })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/must start at container id 0/),
    });
    const { items } = await cri.runtime<{ items: unknown[] }>('ListPodSandbox', {
      filter: { label_selector: {} },
    });
    expect(
      items.filter(
        (p) => JSON.stringify(p).includes('"userns"') && /two|shifted|mode/.test(JSON.stringify(p)),
      ),
    ).toEqual([]);
  });
});
