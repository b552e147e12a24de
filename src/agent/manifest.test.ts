import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseManifest } from './manifest';
import { diffPods, readManifestDir } from './manifest_dir';

const yaml = (extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: main
      image: busybox:1
${extra}`;

test('a static pod gets the node in its name, the default namespace and a UID hashed from node, file and content', () => {
  const p = parseManifest('/m/web.yaml', yaml(), 'Node1');
  expect(p.error).toBeUndefined();
  expect(p.name).toBe('web-node1');
  expect(p.namespace).toBe('default');
  expect(p.pod?.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
  expect(parseManifest('/m/web.yaml', yaml(), 'Node1').uid).toBe(p.uid);
  expect(parseManifest('/m/other.yaml', yaml(), 'Node1').uid).not.toBe(p.uid);
  expect(parseManifest('/m/web.yaml', yaml('      args: ["x"]'), 'Node1').uid).not.toBe(p.uid);
});

test('JSON manifests are read as well as YAML', () => {
  const json = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'j' },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  });
  expect(parseManifest('/m/j.json', json, 'n').pod?.spec.containers[0].image).toBe('i');
});

test('a field that is not supported makes the pod fail with a message naming it', () => {
  const p = parseManifest('/m/web.yaml', yaml('      volumeDevices: []'), 'n');
  expect(p.error).toContain("Unrecognized key(s) in object: 'volumeDevices'");
  expect(p.name).toBe('web-n');
});

test('configMap and secret references are refused in standalone mode', () => {
  const p = parseManifest(
    '/m/web.yaml',
    yaml(`      env:
        - name: A
          valueFrom: { configMapKeyRef: { name: cm, key: k } }
  volumes:
    - name: s
      secret: { secretName: x }`),
    'n',
  );
  expect(p.error).toContain("env 'A' of container 'main' uses configMapKeyRef");
  expect(p.error).toContain("volume 's' of type secret needs the API server");
});

test('a UID, namespace or volume name that could be a path is refused, naming the field', () => {
  const pod = (metadata: object, volumes: object[] = []) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', ...metadata },
      spec: { containers: [{ name: 'c', image: 'i' }], volumes },
    });
  const uid = parseManifest('/m/p.json', pod({ uid: '../../etc' }), 'n');
  expect(uid.error).toContain("metadata.uid: must be one path segment of letters, digits, '-', '_' and '.'");
  expect(uid.uid).not.toContain('/');
  expect(parseManifest('/m/p.json', pod({ uid: '..' }), 'n').error).toContain('metadata.uid');
  expect(parseManifest('/m/p.json', pod({ namespace: '../x' }), 'n').error).toContain(
    'metadata.namespace: a lowercase RFC 1123 label must consist of',
  );
  expect(parseManifest('/m/p.json', pod({}, [{ name: '..', emptyDir: {} }]), 'n').error).toContain(
    'spec.volumes.0.name: a lowercase RFC 1123 label',
  );
  const ok = parseManifest(
    '/m/p.json',
    pod({ uid: 'a1b2-c3_d4.e5', namespace: 'kube-system' }, [{ name: 'v-1', emptyDir: {} }]),
    'n',
  );
  expect(ok.error).toBeUndefined();
});

test('a file that is not YAML is reported, not ignored', () => {
  const p = parseManifest('/m/bad.yaml', 'kind: [', 'n');
  expect(p.error).toMatch(/^Cannot parse manifest '\/m\/bad.yaml'/);
  expect(p.name).toBe('bad-n');
});

test('the directory diff reports added and removed pods, and an edited file as both', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-manifests-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.yaml'), yaml());
    fs.writeFileSync(path.join(dir, '.hidden.yaml'), yaml());
    const first = readManifestDir(dir, 'n');
    expect(first.size).toBe(1);
    expect(diffPods(new Map(), first).added).toHaveLength(1);
    fs.writeFileSync(path.join(dir, 'a.yaml'), yaml('      args: ["changed"]'));
    fs.writeFileSync(path.join(dir, 'b.yaml'), yaml());
    const second = readManifestDir(dir, 'n');
    const diff = diffPods(first, second);
    expect(diff.added.map((p) => path.basename(p.file)).sort()).toEqual(['a.yaml', 'b.yaml']);
    expect(diff.removed.map((p) => path.basename(p.file))).toEqual(['a.yaml']);
    expect(diffPods(second, readManifestDir(dir, 'n'))).toEqual({ added: [], removed: [] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing manifest directory holds no pods', () => {
  expect(readManifestDir('/nonexistent/nodelet-manifests', 'n').size).toBe(0);
});

test('hostUsers: false is taken, but not with hostNetwork, hostPID or hostIPC (as the API server refuses)', () => {
  const spec = (extra: string) => yaml().replace('spec:\n', `spec:\n  hostUsers: false\n${extra}`);
  expect(parseManifest('/m/web.yaml', spec(''), 'n').error).toBeUndefined();
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
    const error = parseManifest('/m/web.yaml', spec(`  ${field}: true\n`), 'n').error;
    expect(error).toContain(`spec.${field}`);
    expect(error).toContain('Forbidden: when `hostUsers` is false');
  }
  expect(
    parseManifest('/m/web.yaml', yaml().replace('spec:\n', 'spec:\n  hostNetwork: true\n'), 'n').error,
  ).toBeUndefined();
});
