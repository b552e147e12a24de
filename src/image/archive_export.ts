// `nodelet image export`: writes images as one tarball that is both an OCI layout (index.json,
// blobs/) and a docker-archive (manifest.json pointing at the same blobs), as `docker save` does
// since Docker 25, so `nodelet image import`, `ctr import`, `docker load` and skopeo all read it.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { failedPrecondition } from '../common/errors';
import type { ImageRecord } from './image_store';
import type { Images } from './images';
import { parseManifest } from './manifest';

export async function exportImages(images: Images, records: ImageRecord[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack as unknown as NodeJS.ReadableStream, out);
  const addBuffer = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())),
    );
  const addBlob = async (digest: string) => {
    const file = images.content.pathOf(digest);
    const size = await images.content.size(digest).catch(() => {
      throw failedPrecondition(`Cannot export blob ${digest}: it is not in the content store`);
    });
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: `blobs/${digest.replace(':', '/')}`, size, mode: 0o644 }, (err) =>
        err ? reject(err) : resolve(),
      );
      fs.createReadStream(file)
        .on('error', reject)
        .pipe(entry as unknown as NodeJS.WritableStream);
    });
  };

  const index: object[] = [];
  const dockerManifest: object[] = [];
  const added = new Set<string>();
  await addBuffer('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  for (const record of records) {
    const manifestBytes = await images.content.read(record.manifestDigest);
    const parsed = parseManifest(manifestBytes, undefined, record.id);
    if (parsed.kind !== 'manifest')
      throw failedPrecondition(`Cannot export ${record.id}: its manifest is an index`);
    for (const digest of [record.manifestDigest, record.id, ...record.layers.map((l) => l.digest)]) {
      if (added.has(digest)) continue;
      added.add(digest);
      await addBlob(digest);
    }
    const names = record.repoTags.length ? record.repoTags : [undefined];
    for (const name of names) {
      index.push({
        mediaType: parsed.manifest.mediaType,
        digest: record.manifestDigest,
        size: manifestBytes.length,
        ...(name
          ? {
              annotations: {
                'io.containerd.image.name': name,
                'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1),
              },
            }
          : {}),
      });
    }
    dockerManifest.push({
      Config: `blobs/${record.id.replace(':', '/')}`,
      RepoTags: record.repoTags,
      Layers: record.layers.map((l) => `blobs/${l.digest.replace(':', '/')}`),
    });
  }
  await addBuffer(
    'index.json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: index,
      }),
    ),
  );
  await addBuffer('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
  pack.finalize();
  await written;
}
