// A daemon killed in the middle of a pull: after a restart there is no partial image, what the
// pull had half written is gone, and the same pull succeeds. The daemon runs from dist/.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { criClient } from '../../support/cri_client';
import { buildImage, HostileRegistry, layerTar } from './hostile_registry';
import { removeRoot } from './leftovers';

jest.setTimeout(90_000);

let registry: HostileRegistry;
let daemon: TestDaemon | undefined;
let root: string | undefined;

beforeAll(async () => {
  registry = new HostileRegistry();
  await registry.start();
});

afterAll(async () => {
  await daemon?.stop();
  await removeRoot(root);
  await registry.stop();
});

it('a pull killed half way leaves no partial image and the next pull succeeds', async () => {
  const data = crypto.randomBytes(1 << 18); // incompressible, so the stall comes mid-blob
  const img = buildImage([await layerTar([{ name: 'blob', data }])]);
  registry.add('killed/img', '1', img);
  registry.behaviour.set(img.layerDigests[0], { stallAfter: 4096 });
  daemon = await startDaemon({ timeoutMs: 30_000 });
  root = daemon.root;
  const ref = `${registry.host}/killed/img:1`;

  const first = criClient(daemon.endpoint);
  first.image('PullImage', { image: { image: ref } }, 60_000).catch(() => undefined);
  while (registry.blobRequests === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  daemon.proc.kill('SIGKILL');
  await daemon.stop();
  first.close();
  const imagesDir = path.join(root, 'state/images');
  expect(fs.readdirSync(imagesDir).filter((n) => n.endsWith('.json'))).toEqual([]);

  registry.behaviour.delete(img.layerDigests[0]);
  daemon = await startDaemon({ root, timeoutMs: 30_000 });
  expect(fs.readdirSync(path.join(root, 'state/content/ingest'))).toEqual([]);
  expect(fs.readdirSync(path.join(root, 'state/snapshots')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  const cri = criClient(daemon.endpoint);
  try {
    const pulled = await cri.image<{ image_ref: string }>('PullImage', { image: { image: ref } }, 60_000);
    expect(pulled.image_ref).toBe(img.configDigest);
    const status = await cri.image<{ image: { repo_tags: string[] } }>('ImageStatus', {
      image: { image: ref },
    });
    expect(status.image.repo_tags).toEqual([ref]);
  } finally {
    cri.close();
  }
});
