// CDI devices through a real daemon whose cdiSpecDirs are this test's own: a spec names device
// nodes (one given in full, one filled from the host's node), env, a bind mount of a host dir and
// an additional GID; a container asking for its devices sees all of it from inside. A broken spec
// file beside it is skipped, an unknown device is refused by name and leaves no container, and the
// real crictl gets the devices through its JSON config (it has no CDI flag) and the annotation form.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../../support/cri_client';
import { crictlFor, type Crictl } from '../../support/crictl';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

let env: CriEnv | undefined;
let cri: TestCriClient;
let crictl: Crictl;
let root: string;
let pod: string;
const podConfig = {
  metadata: { name: 'cdi', namespace: 'devices', uid: 'uid-cdi', attempt: 0 },
  log_directory: '',
};

jest.setTimeout(240_000);

const KIND = 'nodelet.test/probe';

function writeSpecs(etc: string, run: string, shared: string): void {
  fs.writeFileSync(
    path.join(etc, 'probe.json'),
    JSON.stringify({
      cdiVersion: '0.7.0',
      kind: KIND,
      containerEdits: { env: ['CDI_VENDOR=nodelet'] },
      devices: [
        {
          name: 'zero',
          containerEdits: {
            // /dev/zero's numbers, given in full, with a mode of its own
            deviceNodes: [{ path: '/dev/cdi-zero', type: 'c', major: 1, minor: 5, fileMode: 0o640 }],
            env: ['CDI_DEVICE=zero'],
            mounts: [{ hostPath: shared, containerPath: '/opt/cdi', options: ['ro', 'nosuid', 'nodev'] }],
            additionalGids: [4242],
          },
        },
        {
          // outside the default device rules: only the CDI rule lets it open, and for reading only
          name: 'ctl',
          containerEdits: {
            deviceNodes: [{ path: '/dev/cdi-ctl', hostPath: '/dev/loop-control', permissions: 'r' }],
          },
        },
      ],
    }),
  );
  // The later directory overrides the earlier one for the same device.
  fs.writeFileSync(
    path.join(run, 'override.yaml'),
    [
      'cdiVersion: "0.6.0"',
      `kind: ${KIND}`,
      'devices:',
      '  - name: ctl',
      '    containerEdits:',
      '      env: ["CDI_CTL=overridden"]',
      '      deviceNodes:',
      '        - path: /dev/cdi-ctl',
      '          hostPath: /dev/loop-control',
      '          permissions: r',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(etc, 'broken.json'), '{"cdiVersion": "0.6.0", "kind": ');
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-cdi-'));
  const [etc, run, shared, logs] = ['etc', 'run', 'shared', 'logs'].map((d) => path.join(root, d));
  for (const d of [etc, run, shared, logs]) fs.mkdirSync(d!);
  fs.writeFileSync(path.join(shared!, 'hello'), 'from the host\n');
  writeSpecs(etc!, run!, shared!);
  podConfig.log_directory = logs!;
  env = await startCriEnv({ config: { cdiSpecDirs: [etc, run] } });
  cri = env.cri;
  crictl = crictlFor(env.daemon.endpoint);
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv(env);
  fs.rmSync(root, { recursive: true, force: true });
});

function containerConfig(name: string, cdi: string[], annotations: Record<string, string> = {}) {
  return {
    metadata: { name },
    image: { image: BUSYBOX },
    command: ['sleep', '3600'],
    CDI_devices: cdi.map((n) => ({ name: n })),
    annotations,
  };
}

async function runContainer(name: string, cdi: string[]): Promise<string> {
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    { pod_sandbox_id: pod, config: containerConfig(name, cdi), sandbox_config: podConfig },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function sh(id: string, script: string) {
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

async function containerNames(): Promise<string[]> {
  const { containers } = await cri.runtime<{ containers: { metadata: { name: string } }[] }>(
    'ListContainers',
    {},
  );
  return containers.map((c) => c.metadata.name);
}

describe('CDI devices', () => {
  let id: string;
  beforeAll(async () => {
    id = await runContainer('gpu', [`${KIND}=zero`, `${KIND}=ctl`]);
  });

  test('a device node given in full has its numbers and mode, and opens', async () => {
    const r = await sh(id, 'stat -c "%F %t,%T %a" /dev/cdi-zero && head -c 4 /dev/cdi-zero | wc -c');
    expect(r).toEqual({ out: 'character special file 1,5 640\n4\n', err: '', code: 0 });
  });

  test("a device node filled from the host's node opens for reading only, as its permissions say", async () => {
    expect(await sh(id, 'stat -c "%t,%T" /dev/cdi-ctl && : < /dev/cdi-ctl && echo READ')).toEqual({
      out: 'a,ed\nREAD\n',
      err: '',
      code: 0,
    });
    const write = await sh(id, ': > /dev/cdi-ctl');
    expect(write.code).not.toBe(0);
    expect(write.err).toMatch(/Operation not permitted/);
  });

  test("the spec's and the devices' env, with the later directory's definition of a device", async () => {
    expect((await sh(id, 'echo $CDI_VENDOR $CDI_DEVICE $CDI_CTL')).out).toBe('nodelet zero overridden\n');
  });

  test('the host dir is mounted read-only at the container path', async () => {
    expect((await sh(id, 'cat /opt/cdi/hello')).out).toBe('from the host\n');
    const write = await sh(id, 'touch /opt/cdi/new');
    expect(write.code).not.toBe(0);
    expect(write.err).toMatch(/Read-only file system/);
  });

  test('the process has the additional GID', async () => {
    expect((await sh(id, 'id -G')).out.trim().split(' ')).toContain('4242');
  });

  test('the broken spec file beside them is logged and skipped', () => {
    expect(env!.daemon.logs()).toMatch(/broken\.json.*CDI spec skipped|CDI spec skipped.*broken\.json/);
  });

  test.each([
    [`${KIND}=missing`, `unresolvable CDI devices '${KIND}=missing'`],
    ['nodelet.test/probe', "Cannot inject CDI device 'nodelet.test/probe': missing device name"],
  ])('%s is refused with INVALID_ARGUMENT naming it, and leaves no container', async (device, message) => {
    const before = await containerNames();
    await expect(
      cri.runtime(
        'CreateContainer',
        {
          pod_sandbox_id: pod,
          config: containerConfig('refused', [`${KIND}=zero`, device]),
          sandbox_config: podConfig,
        },
        60_000,
      ),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining(message) });
    expect(await containerNames()).toEqual(before);
    // The name was never taken: a good request under it succeeds.
    const ok = await runContainer('refused', [`${KIND}=zero`]);
    await cri.runtime('RemoveContainer', { container_id: ok }, 60_000);
  });
});

describe('CDI devices through crictl', () => {
  function crictlRun(name: string, config: object): string {
    const dir = fs.mkdtempSync(path.join(root, 'crictl-'));
    fs.writeFileSync(path.join(dir, 'container.json'), JSON.stringify(config));
    fs.writeFileSync(path.join(dir, 'pod.json'), JSON.stringify(podConfig));
    const id = crictl
      .must(['create', pod, path.join(dir, 'container.json'), path.join(dir, 'pod.json')], {
        timeoutMs: 60_000,
      })
      .trim();
    crictl.must(['start', id], { timeoutMs: 60_000 });
    return id;
  }

  test('CDI_devices in the JSON config of crictl create', () => {
    const id = crictlRun('crictl-field', containerConfig('crictl-field', [`${KIND}=zero`]));
    expect(crictl.must(['exec', id, 'sh', '-c', 'echo $CDI_DEVICE; stat -c %t,%T /dev/cdi-zero'])).toBe(
      'zero\n1,5\n',
    );
  });

  test('the cdi.k8s.io annotation form', () => {
    const id = crictlRun(
      'crictl-annotation',
      containerConfig('crictl-annotation', [], { 'cdi.k8s.io/probe': `${KIND}=zero` }),
    );
    expect(crictl.must(['exec', id, 'sh', '-c', 'echo $CDI_DEVICE'])).toBe('zero\n');
  });

  test('an unknown device fails crictl create with its name', () => {
    const dir = fs.mkdtempSync(path.join(root, 'crictl-'));
    fs.writeFileSync(
      path.join(dir, 'container.json'),
      JSON.stringify(containerConfig('crictl-unknown', [`${KIND}=nope`])),
    );
    fs.writeFileSync(path.join(dir, 'pod.json'), JSON.stringify(podConfig));
    const r = crictl.run(['create', pod, path.join(dir, 'container.json'), path.join(dir, 'pod.json')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/InvalidArgument.*unresolvable CDI devices 'nodelet.test\/probe=nope'/);
  });
});
