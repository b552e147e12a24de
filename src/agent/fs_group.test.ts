import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from './pod_spec';
import { setVolumeOwnership } from './fs_group';
import { prepareVolumes, refreshApiVolumes } from './volumes';
import { fakeMounter } from './fake_mounter.testutil';

const GROUP = 4321;
let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-fsgroup-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const stat = (p: string) => {
  const st = fs.lstatSync(p);
  return { gid: st.gid, mode: (st.mode & 0o7777).toString(8) };
};

describe('setVolumeOwnership', () => {
  test('gives every file and directory to the fsGroup with group read-write, and directories setgid', () => {
    fs.mkdirSync(path.join(tmp, 'sub'), { mode: 0o700 });
    fs.writeFileSync(path.join(tmp, 'sub', 'f'), 'x', { mode: 0o600 });
    fs.chmodSync(path.join(tmp, 'sub', 'f'), 0o600);
    fs.chmodSync(tmp, 0o777);
    setVolumeOwnership(tmp, GROUP, { readOnly: false });
    expect(stat(tmp)).toEqual({ gid: GROUP, mode: '2777' });
    expect(stat(path.join(tmp, 'sub'))).toEqual({ gid: GROUP, mode: '2770' });
    expect(stat(path.join(tmp, 'sub', 'f'))).toEqual({ gid: GROUP, mode: '660' });
  });

  test('a read-only volume gets group read but not write', () => {
    fs.writeFileSync(path.join(tmp, 'f'), 'x');
    fs.chmodSync(path.join(tmp, 'f'), 0o400);
    fs.chmodSync(tmp, 0o700);
    setVolumeOwnership(tmp, GROUP, { readOnly: true });
    expect(stat(path.join(tmp, 'f'))).toEqual({ gid: GROUP, mode: '440' });
    expect(stat(tmp)).toEqual({ gid: GROUP, mode: '2750' });
  });

  test('a link gets the group but its target keeps its mode', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-fsgroup-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 't'), 'x');
      fs.chmodSync(path.join(outside, 't'), 0o600);
      fs.symlinkSync(path.join(outside, 't'), path.join(tmp, 'link'));
      setVolumeOwnership(tmp, GROUP, { readOnly: false });
      expect(fs.lstatSync(path.join(tmp, 'link')).gid).toBe(GROUP);
      expect(stat(path.join(outside, 't'))).toEqual({ gid: 0, mode: '600' });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test('OnRootMismatch leaves a volume whose root is already the fsGroup setgid directory as it is', () => {
    fs.writeFileSync(path.join(tmp, 'f'), 'x');
    fs.chmodSync(path.join(tmp, 'f'), 0o600);
    fs.chownSync(tmp, 0, GROUP);
    fs.chmodSync(tmp, 0o2770);
    setVolumeOwnership(tmp, GROUP, { readOnly: false, policy: 'OnRootMismatch' });
    expect(stat(path.join(tmp, 'f'))).toEqual({ gid: 0, mode: '600' });
    // A root of another group is a mismatch: the whole volume changes.
    fs.chownSync(tmp, 0, 0);
    setVolumeOwnership(tmp, GROUP, { readOnly: false, policy: 'OnRootMismatch' });
    expect(stat(path.join(tmp, 'f'))).toEqual({ gid: GROUP, mode: '660' });
  });

  test('Always changes the volume even when its root looks done', () => {
    fs.writeFileSync(path.join(tmp, 'f'), 'x');
    fs.chmodSync(path.join(tmp, 'f'), 0o600);
    fs.chownSync(tmp, 0, GROUP);
    fs.chmodSync(tmp, 0o2770);
    setVolumeOwnership(tmp, GROUP, { readOnly: false, policy: 'Always' });
    expect(stat(path.join(tmp, 'f'))).toEqual({ gid: GROUP, mode: '660' });
  });

  test('no fsGroup changes nothing', () => {
    fs.chmodSync(tmp, 0o700);
    setVolumeOwnership(tmp, undefined, { readOnly: false });
    expect(stat(tmp)).toEqual({ gid: 0, mode: '700' });
  });
});

describe('volumes of a pod with an fsGroup', () => {
  const facts = { nodeName: 'n', hostIP: 'h', podIPs: [], nodeCpuCores: 1, nodeMemoryBytes: 1 };
  const pod = (volumes: NonNullable<Pod['spec']['volumes']>): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: {
      containers: [{ name: 'c', image: 'i' }],
      volumes,
      securityContext: { fsGroup: GROUP, fsGroupChangePolicy: 'OnRootMismatch' },
    },
  });

  test('emptyDir, downwardAPI and secret volumes belong to the fsGroup; a restart does not chmod the emptyDir again', () => {
    const dir = path.join(tmp, 'pods', 'u');
    const p = pod([
      { name: 'scratch', emptyDir: {} },
      { name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'creds', secret: { secretName: 's', defaultMode: 0o400 } },
    ]);
    const apiVolumes = { creds: [{ path: 'token', content: Buffer.from('t'), mode: 0o400 }] };
    const mounter = fakeMounter();
    const vols = prepareVolumes(p, dir, facts, mounter, apiVolumes);
    const scratch = vols.get('scratch')!.hostPath;
    expect(stat(scratch)).toEqual({ gid: GROUP, mode: '2777' });
    expect(stat(path.join(vols.get('info')!.hostPath, '..data/name'))).toEqual({ gid: GROUP, mode: '644' });
    const token = path.join(vols.get('creds')!.hostPath, '..data/token');
    expect(stat(token)).toEqual({ gid: GROUP, mode: '440' });

    // What a container made later is left alone when the agent prepares the volumes again.
    fs.writeFileSync(path.join(scratch, 'mine'), 'x');
    fs.chmodSync(path.join(scratch, 'mine'), 0o600);
    prepareVolumes(p, dir, facts, mounter, apiVolumes);
    expect(stat(path.join(scratch, 'mine')).mode).toBe('600');

    // The same payload read again is not written again; a new one gets the group before it shows.
    expect(refreshApiVolumes(p, dir, apiVolumes, mounter, facts)).toEqual([]);
    const next = { creds: [{ path: 'token', content: Buffer.from('t2'), mode: 0o400 }] };
    expect(refreshApiVolumes(p, dir, next, mounter, facts)).toEqual(['creds']);
    expect(stat(path.join(vols.get('creds')!.hostPath, '..data/token'))).toEqual({ gid: GROUP, mode: '440' });
  });
});
