// The ImageService through the real crictl against a daemon started from dist/, pulling the
// fixture images from a real docker-registry, with critest's upstream hosts mirrored to it.
// Needs `npx tsc -p tsconfig.build.json` first, root (unpack, overlay mount) and the Debian
// packages of scripts/apt-packages-test.txt.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { criClient, TestCriClient } from '../../support/cri_client';
import { startRegistry, TestRegistry } from '../../support/registry';
import { removeRoot } from './leftovers';
import { findTool } from '../../support/tools';
import os from 'node:os';

const CRICTL = findTool('crictl');
let registry: TestRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
const mounts: string[] = [];

jest.setTimeout(120_000);

beforeAll(async () => {
  registry = await startRegistry({ withFixtures: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-images-'));
  daemon = await startDaemon({ root, config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
  cri = criClient(daemon.endpoint);
});

afterAll(async () => {
  for (const m of mounts) execFileSync('umount', [m]);
  cri?.close();
  await daemon?.stop();
  await removeRoot(daemon?.root);
  await registry?.stop();
});

function crictl(...args: string[]): string {
  return execFileSync(
    CRICTL,
    ['--runtime-endpoint', daemon.endpoint, '--image-endpoint', daemon.endpoint, ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

interface Inspected {
  status: {
    id: string;
    repoTags: string[];
    repoDigests: string[];
    uid?: { value: string };
    username: string;
  };
  info: { lowerDirs: string[]; chainIds: string[]; imageSpec: { config: { Cmd?: string[] } } };
}
const inspect = (ref: string) => JSON.parse(crictl('inspecti', '-o', 'json', ref)) as Inspected;
const idOf = (ref: string) => inspect(ref).status.id;

function inodes(dirs: string[]): string[] {
  return dirs.map((d) => `${fs.statSync(d).ino}`);
}

describe('images through crictl', () => {
  it('pulls an image with a zstd layer', () => {
    const ref = `${registry.host}/nodelet-test/zstd:1`;
    expect(crictl('pull', ref)).toMatch(/Image is up to date for sha256:[a-f0-9]{64}/);
    const [fsDir] = inspect(ref).info.lowerDirs;
    expect(fs.lstatSync(path.join(fsDir, 'bin/busybox')).isFile()).toBe(true);
  });

  it('pulls a multi-layer image and shows it as containerd does', () => {
    const ref = `${registry.host}/nodelet-test/multilayer:1`;
    const out = crictl('pull', ref);
    const id = /sha256:[a-f0-9]{64}/.exec(out)![0];
    expect(crictl('images')).toContain(`${registry.host}/nodelet-test/multilayer`);
    const image = inspect(ref);
    expect(image.status.id).toBe(id);
    expect(image.status.repoTags).toEqual([ref]);
    expect(image.status.repoDigests[0]).toMatch(
      new RegExp(`^${registry.host}/nodelet-test/multilayer@sha256:`),
    );
    expect(image.info.lowerDirs).toHaveLength(3);
    expect(fs.readFileSync(path.join(image.info.lowerDirs[0], 'opt/b/b'), 'utf8')).toBe('b\n');
    expect(image.info.imageSpec.config.Cmd).toEqual(['sh']);
    expect(crictl('images', '-q')).toContain(id);
  });

  it('downloads nothing when the same image is pulled again', () => {
    const ref = `${registry.host}/nodelet-test/multilayer:1`;
    const dirs = inspect(ref).info.lowerDirs;
    const blobs = path.join(daemon.stateDir, 'content/blobs/sha256');
    const before = {
      snapshots: inodes(dirs),
      blobs: fs.readdirSync(blobs).map((b) => fs.statSync(path.join(blobs, b)).ino),
    };
    crictl('pull', ref);
    const after = {
      snapshots: inodes(dirs),
      blobs: fs.readdirSync(blobs).map((b) => fs.statSync(path.join(blobs, b)).ino),
    };
    expect(after).toEqual(before);
  });

  it('hides what an upper layer deleted when the layers are mounted with overlayfs', () => {
    const ref = `${registry.host}/nodelet-test/whiteout:1`;
    crictl('pull', ref);
    const lower = inspect(ref).info.lowerDirs;
    const mnt = fs.mkdtempSync(path.join(daemon.root, 'mnt-'));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower.join(':')}`, mnt]);
    mounts.push(mnt);
    expect(fs.readdirSync(path.join(mnt, 'data'))).toEqual(['keep']);
    expect(fs.existsSync(path.join(mnt, 'bin/busybox'))).toBe(true);
    execFileSync('umount', [mnt]);
    mounts.pop();
  });

  it('serves the critest images under their upstream names through the mirrors', () => {
    crictl('pull', 'registry.k8s.io/e2e-test-images/busybox:1.29-2');
    crictl('pull', 'registry.k8s.io/pause:3.9');
    crictl('pull', 'k8s.gcr.io/pause:3.9');
    expect(idOf('k8s.gcr.io/pause:3.9')).toBe(idOf('registry.k8s.io/pause:3.9'));
    const tags = ['1', '2', '3'].map((t) => `gcr.io/k8s-staging-cri-tools/test-image-tags:${t}`);
    for (const t of tags) crictl('pull', t);
    expect(new Set(tags.map(idOf)).size).toBe(1);
    expect(inspect(tags[0]).status.repoTags.sort()).toEqual(tags);
  });

  it('reports uid and username from the image config', () => {
    const s = 'gcr.io/k8s-staging-cri-tools';
    crictl('pull', `${s}/test-image-user-uid-group`);
    crictl('pull', `${s}/test-image-user-username`);
    expect(inspect(`${s}/test-image-user-uid-group`).status).toMatchObject({
      uid: { value: '1003' },
      username: '',
    });
    const named = inspect(`${s}/test-image-user-username`).status;
    expect(named.username).toBe('www-data');
    expect(named.uid).toBeUndefined();
  });

  it('finds an image by id, short id and digest, and answers an unknown image with no image', async () => {
    const ref = `${registry.host}/nodelet-test/multilayer:1`;
    const { id, repoDigests } = inspect(ref).status;
    for (const name of [id, id.slice(7), id.slice(7, 19), repoDigests[0]]) {
      const res = await cri.image<{ image: { id: string } | null }>('ImageStatus', {
        image: { image: name },
      });
      expect(res.image?.id).toBe(id);
    }
    const unknown = await cri.image<{ image: unknown }>('ImageStatus', { image: { image: 'no/such:image' } });
    expect(unknown.image).toBeNull();
  });

  it('removes every tag of an image by one of them, and removing again succeeds', async () => {
    const tags = ['1', '2', '3'].map((t) => `gcr.io/k8s-staging-cri-tools/test-image-tags:${t}`);
    const id = idOf(tags[0]);
    crictl('rmi', tags[1]);
    expect(crictl('images', '-q')).not.toContain(id);
    await expect(cri.image('RemoveImage', { image: { image: tags[0] } })).resolves.toEqual({});
  });

  it('refuses a malformed reference with INVALID_ARGUMENT', async () => {
    await expect(cri.image('PullImage', { image: { image: 'UPPER/Case' } })).rejects.toMatchObject({
      code: 3,
    });
  });

  it('reports the bytes and inodes of the snapshot directory', async () => {
    type FsInfo = {
      status: { imageFilesystems: Array<{ fsId: { mountpoint: string }; usedBytes: { value: string } }> };
    };
    // The figure is cached for a few seconds, and crictl asks ImageFsInfo on every connection.
    let imageFs = (JSON.parse(crictl('imagefsinfo', '-o', 'json')) as FsInfo).status.imageFilesystems[0];
    for (let i = 0; i < 40 && Number(imageFs.usedBytes.value) < 1_000_000; i++) {
      await new Promise((r) => setTimeout(r, 250));
      imageFs = (JSON.parse(crictl('imagefsinfo', '-o', 'json')) as FsInfo).status.imageFilesystems[0];
    }
    expect(imageFs.fsId.mountpoint).toBe(path.join(daemon.stateDir, 'snapshots'));
    expect(Number(imageFs.usedBytes.value)).toBeGreaterThan(1_000_000);
  });
});
