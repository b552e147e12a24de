import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from './pod_spec';
import {
  containerMounts,
  prepareVolumes,
  refreshApiVolumes,
  refreshDownwardApiVolumes,
  removePodDir,
} from './volumes';
import { ContainerConfigError } from './container_config_error';
import { fakeMounter } from './fake_mounter.testutil';
import { kernelVolumeMounter } from './volume_mounter';
import { subPathTarget } from './subpath';

const facts = { nodeName: 'n', hostIP: 'h', podIPs: ['10.0.0.1'], nodeCpuCores: 1, nodeMemoryBytes: 1 };
let tmp: string;
const mounter = fakeMounter();
const { mounted } = mounter;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-volumes-'));
  mounted.clear();
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const pod = (volumes: NonNullable<Pod['spec']['volumes']>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { a: 'b' } },
  spec: {
    containers: [
      {
        name: 'c',
        image: 'i',
        volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/${v.name}` })),
      },
    ],
    volumes,
  },
});

test('emptyDir volumes are directories in the pod directory, memory-backed ones a tmpfs that removal unmounts', () => {
  const dir = path.join(tmp, 'pods', 'u');
  const p = pod([
    { name: 'disk', emptyDir: {} },
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
  ]);
  const vols = prepareVolumes(p, dir, facts, mounter);
  expect(fs.statSync(vols.get('disk')!.hostPath).isDirectory()).toBe(true);
  expect(mounted.has(vols.get('mem')!.hostPath)).toBe(true);
  const mounts = containerMounts(p.spec.containers[0], vols, { podDir: dir, mounter });
  expect(mounts.map((m) => [m.container_path, m.propagation, m.readonly])).toEqual([
    ['/disk', 'PROPAGATION_PRIVATE', false],
    ['/mem', 'PROPAGATION_PRIVATE', false],
  ]);
  removePodDir(dir, mounter);
  expect(mounted.size).toBe(0);
  expect(fs.existsSync(dir)).toBe(false);
});

test('volumes whose files the node writes are mounted read-only, whatever the pod asks', () => {
  const p = pod([
    { name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
    { name: 'cfg', configMap: { name: 'c' } },
  ]);
  const vols = prepareVolumes(p, path.join(tmp, 'pods', 'u'), facts, mounter, {
    cfg: [{ path: 'k', content: Buffer.from('v'), mode: 0o644 }],
  });
  const mounts = containerMounts({ ...p.spec.containers[0] }, vols, { podDir: tmp, mounter });
  expect(mounts.map((m) => [m.container_path, m.readonly])).toEqual([
    ['/info', true],
    ['/cfg', true],
  ]);
});

test('hostPath volumes check their type and create what DirectoryOrCreate and FileOrCreate ask for', () => {
  const made = path.join(tmp, 'made');
  const vols = prepareVolumes(
    pod([
      { name: 'd', hostPath: { path: made, type: 'DirectoryOrCreate' } },
      { name: 'f', hostPath: { path: path.join(tmp, 'sub', 'file'), type: 'FileOrCreate' } },
    ]),
    path.join(tmp, 'pods', 'u'),
    facts,
    mounter,
  );
  expect(vols.get('d')!.hostPath).toBe(made);
  expect(fs.statSync(path.join(tmp, 'sub', 'file')).isFile()).toBe(true);
  expect(() =>
    prepareVolumes(pod([{ name: 'x', hostPath: { path: made, type: 'File' } }]), tmp, facts, mounter),
  ).toThrow(`Cannot use hostPath volume 'x': '${made}' is not of type File`);
});

test('downwardAPI volumes hold the pod metadata as files, and follow it when it changes', () => {
  const p = pod([
    {
      name: 'info',
      downwardAPI: {
        items: [
          { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
          { path: 'meta/labels', fieldRef: { fieldPath: 'metadata.labels' } },
        ],
      },
    },
  ]);
  const podPath = path.join(tmp, 'pods', 'u');
  const vols = prepareVolumes(p, podPath, facts, mounter);
  const dir = vols.get('info')!.hostPath;
  expect(fs.readFileSync(path.join(dir, 'name'), 'utf8')).toBe('p');
  expect(fs.readFileSync(path.join(dir, 'meta', 'labels'), 'utf8')).toBe('a="b"');
  // New labels on the running pod reach the files; unchanged metadata writes nothing.
  const relabelled = p;
  relabelled.metadata.labels = { a: 'b', tier: 'web' };
  expect(refreshDownwardApiVolumes(relabelled, podPath, facts)).toEqual(['info']);
  expect(fs.readFileSync(path.join(dir, 'meta', 'labels'), 'utf8')).toBe('a="b"\ntier="web"');
  expect(refreshDownwardApiVolumes(relabelled, podPath, facts)).toEqual([]);
});

test('a subPath that leaves its volume by its text is refused as a container config error naming it', () => {
  const vols = new Map([['v', { name: 'v', hostPath: tmp }]]);
  const mount = (subPath: string) => () =>
    containerMounts(
      { name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/x', subPath }] },
      vols,
      { podDir: tmp, mounter: kernelVolumeMounter },
    );
  // The kubelet's words (makeMounts): checked before anything is made.
  expect(mount('../etc')).toThrow("unable to provision SubPath `../etc`: must not contain '..'");
  expect(mount('a/../../etc')).toThrow("unable to provision SubPath `a/../../etc`: must not contain '..'");
  expect(mount('/etc')).toThrow('error SubPath `/etc` must not be an absolute path');
  for (const subPath of ['../etc', 'a/../../etc', '/etc'])
    expect(mount(subPath)).toThrow(ContainerConfigError);
  expect(fs.readdirSync(tmp)).toEqual([]);
});

test('a subPathExpr is expanded from the container environment before it is bound', () => {
  const root = path.join(tmp, 'vol');
  fs.mkdirSync(root, { mode: 0o777 });
  const vols = new Map([['v', { name: 'v', hostPath: root }]]);
  const mounter = fakeMounter();
  const mount = (env: Map<string, string>) =>
    containerMounts(
      { name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/x', subPathExpr: '$(A)/$(POD)' }] },
      vols,
      { podDir: tmp, mounter, env },
    );
  expect(() => mount(new Map([['POD', 'p1']]))).toThrow('missing value for A');
  expect(() => mount(new Map([['POD', 'p1']]))).toThrow(ContainerConfigError);
  const [m] = mount(
    new Map([
      ['A', 'mypath'],
      ['POD', 'p1'],
    ]),
  );
  expect(m.host_path).toBe(subPathTarget(tmp, 'v', 'c', 0));
  expect(mounter.binds.get(m.host_path!)).toMatchObject({ root, subPath: 'mypath/p1' });
  expect(() =>
    mount(
      new Map([
        ['A', '..'],
        ['POD', 'p1'],
      ]),
    ),
  ).toThrow("unable to provision SubPath `../p1`: must not contain '..'");
});

test('a subPath is bound by the node to a path under the pod directory, which goes to the runtime', () => {
  const root = path.join(tmp, 'vol');
  fs.mkdirSync(root, { mode: 0o777 });
  fs.chmodSync(root, 0o777);
  const vols = new Map([['v', { name: 'v', hostPath: root }]]);
  const mounts = containerMounts(
    {
      name: 'c',
      image: 'i',
      volumeMounts: [
        { name: 'v', mountPath: '/whole' },
        { name: 'v', mountPath: '/x', subPath: 'a/b', readOnly: true },
      ],
    },
    vols,
    { podDir: tmp, mounter },
  );
  const target = path.join(tmp, 'volume-subpaths', 'v', 'c', '1');
  expect(mounts[1]).toMatchObject({ container_path: '/x', host_path: target, readonly: true });
  expect(mounter.binds.get(target)).toEqual({ root, subPath: 'a/b', mode: 0o777 });
  removePodDir(tmp, mounter);
  expect(mounted.size).toBe(0);
});

test('a pod directory with a mount the node cannot remove is left in place, not deleted through it', () => {
  const dir = path.join(tmp, 'pods', 'u');
  fs.mkdirSync(path.join(dir, 'stuck'), { recursive: true });
  const stubborn = { ...mounter, unmount: () => undefined };
  mounted.add(path.join(dir, 'stuck'));
  expect(() => removePodDir(dir, stubborn)).toThrow('is still mounted');
  expect(fs.existsSync(path.join(dir, 'stuck'))).toBe(true);
});

test('configMap and secret volumes hold the files read from the API; secrets on a tmpfs that removal unmounts', () => {
  const dir = path.join(tmp, 'pods', 'u');
  const p = pod([
    { name: 'cfg', configMap: { name: 'c' } },
    { name: 'sec', secret: { secretName: 's' } },
  ]);
  const vols = prepareVolumes(p, dir, facts, mounter, {
    cfg: [{ path: 'conf/a', content: Buffer.from('A'), mode: 0o640 }],
    sec: [{ path: 'pw', content: Buffer.from('hunter2'), mode: 0o400 }],
  });
  const cfgFile = path.join(vols.get('cfg')!.hostPath, 'conf/a');
  expect(fs.readFileSync(cfgFile, 'utf8')).toBe('A');
  expect(fs.statSync(cfgFile).mode & 0o777).toBe(0o640);
  expect(vols.get('sec')!.hostPath).toBe(path.join(dir, 'volumes', 'kubernetes.io~secret', 'sec'));
  expect(mounted.has(vols.get('sec')!.hostPath)).toBe(true);
  removePodDir(dir, mounter);
  expect(mounted.size).toBe(0);
});

test('a configMap volume without the API server cannot be prepared', () => {
  expect(() => prepareVolumes(pod([{ name: 'cfg', configMap: { name: 'c' } }]), tmp, facts, mounter)).toThrow(
    "Cannot prepare volume 'cfg': its type is not supported without the API server",
  );
});

test('refreshing API volumes rewrites only the prepared volumes whose content changed', () => {
  const dir = path.join(tmp, 'pods', 'u');
  const p = pod([
    { name: 'cfg', configMap: { name: 'c' } },
    { name: 'sec', secret: { secretName: 's' } },
  ]);
  const file = (content: string) => [{ path: 'k', content: Buffer.from(content), mode: 0o644 }];
  const volumes = prepareVolumes(p, dir, facts, mounter, { cfg: file('1'), sec: file('s') });
  expect(refreshApiVolumes(p, dir, { cfg: file('2'), sec: file('s') }, mounter, facts)).toEqual(['cfg']);
  expect(fs.readFileSync(path.join(volumes.get('cfg')!.hostPath, 'k'), 'utf8')).toBe('2');
  // A secret whose tmpfs is gone (a reboot) is not written to the disk below it.
  mounted.delete(volumes.get('sec')!.hostPath);
  expect(refreshApiVolumes(p, dir, { cfg: file('2'), sec: file('new') }, mounter, facts)).toEqual([]);
  expect(fs.readFileSync(path.join(volumes.get('sec')!.hostPath, 'k'), 'utf8')).toBe('s');
  // A pod whose volumes are not there (not started, or being removed) is left alone.
  removePodDir(dir, mounter);
  expect(refreshApiVolumes(p, dir, { cfg: file('3'), sec: file('t') }, mounter, facts)).toEqual([]);
  expect(fs.existsSync(dir)).toBe(false);
});

test('a pod directory and its volumes directory are 0750, as the kubelet makes them, even when they existed', () => {
  const dir = path.join(tmp, 'pods', 'u');
  fs.mkdirSync(path.join(dir, 'volumes'), { recursive: true, mode: 0o755 });
  prepareVolumes(pod([{ name: 'disk', emptyDir: {} }]), dir, facts, mounter);
  expect(fs.statSync(dir).mode & 0o777).toBe(0o750);
  expect(fs.statSync(path.join(dir, 'volumes')).mode & 0o777).toBe(0o750);
});

test("a projected volume's resourceFieldRef items are written with the container's limit, or the node's allocatable when unset", () => {
  const dir = path.join(tmp, 'pods', 'u');
  const p = pod([{ name: 'info', projected: { sources: [] } }]);
  p.spec.containers[0].resources = { limits: { memory: '64Mi' } };
  const item = (file: string, resource: string, divisor?: string) => ({
    path: file,
    content: Buffer.alloc(0),
    mode: 0o644,
    resourceFieldRef: { resource, containerName: 'c', ...(divisor ? { divisor } : {}) },
  });
  const files = [item('memory_limit', 'limits.memory', '1Mi'), item('cpu_limit', 'limits.cpu', '1m')];
  const nodeFacts = { ...facts, nodeCpuCores: 2 };
  const volumes = prepareVolumes(p, dir, nodeFacts, mounter, { info: files });
  const read = (file: string) => fs.readFileSync(path.join(volumes.get('info')!.hostPath, file), 'utf8');
  expect(read('memory_limit')).toBe('64');
  expect(read('cpu_limit')).toBe('2000');
  // Read again every sync period: the values are the same, so nothing is rewritten.
  expect(refreshApiVolumes(p, dir, { info: files }, mounter, nodeFacts)).toEqual([]);
});
