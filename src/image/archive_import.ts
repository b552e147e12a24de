// `nodelet image import`: loads images from an OCI-layout or docker-archive tarball (for nodes
// without a registry). Blobs are checked against their digests, layers unpacked into snapshots as
// in a pull, and the record written last, so a failed import leaves no image.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { invalidArgument } from '../common/errors';
import { ArchiveDir } from './archive_read';
import type { Descriptor } from './content_store';
import { sha256Of } from './digest';
import { newImageRecord } from './image_record';
import type { ImageRecord } from './image_store';
import type { Images } from './images';
import { unpackLayer } from './layer_unpack';
import { ImageManifest, MediaType, parseImageConfig, parseManifest, selectPlatform } from './manifest';
import { indexSchema } from './manifest_schema';
import { formatReference, parseReference } from './reference';
import { expansionPolicy } from './images';

/** docker-archive's manifest.json: one entry per image, with paths of members of the archive. */
const dockerArchiveSchema = z.array(
  z.object({ Config: z.string(), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string()) }),
);

interface Found {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  names: string[];
  blobOf: (digest: string) => string;
}

async function fileDigest(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** docker-archive: manifest.json lists config and layer files; we write the manifest ourselves. */
async function fromDockerArchive(dir: ArchiveDir): Promise<Found[]> {
  const entries = dir.readJson('manifest.json', dockerArchiveSchema);
  const found: Found[] = [];
  for (const entry of entries) {
    const files = new Map<string, string>();
    const describe = async (member: string, mediaType: string): Promise<Descriptor> => {
      const file = dir.pathOf(member);
      const digest = await fileDigest(file);
      files.set(digest, file);
      return { mediaType, digest, size: (await fsp.stat(file)).size };
    };
    const config = await describe(entry.Config, MediaType.ociConfig);
    const layers: Descriptor[] = [];
    for (const l of entry.Layers) layers.push(await describe(l, MediaType.ociLayer));
    const manifest: ImageManifest = { mediaType: MediaType.ociManifest, config, layers };
    const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, ...manifest }));
    found.push({ manifest, manifestBytes, names: entry.RepoTags ?? [], blobOf: (d) => files.get(d)! });
  }
  return found;
}

/** OCI layout: index.json, then blobs/<alg>/<hex>; names from the ref.name annotations. */
function fromOciLayout(dir: ArchiveDir, name?: string): Found[] {
  const blobOf = (digest: string) => dir.pathOf(`blobs/${digest.replace(':', '/')}`);
  const readBlob = (d: Descriptor) => fs.readFileSync(blobOf(d.digest));
  const index = dir.readJson('index.json', indexSchema);
  const found: Found[] = [];
  for (const desc of index.manifests) {
    let bytes = readBlob(desc);
    let parsed = parseManifest(bytes, desc.mediaType, 'the archive');
    if (parsed.kind === 'index') {
      bytes = readBlob(selectPlatform(parsed.index, 'the archive'));
      parsed = parseManifest(bytes, undefined, 'the archive');
    }
    if (parsed.kind !== 'manifest')
      throw invalidArgument('Cannot import the archive: an index points to an index');
    const annotated =
      desc.annotations?.['io.containerd.image.name'] ??
      desc.annotations?.['org.opencontainers.image.ref.name'];
    const names = name ? [name] : annotated && /[/:]/.test(annotated) ? [annotated] : [];
    found.push({ manifest: parsed.manifest, manifestBytes: bytes, names, blobOf });
  }
  return found;
}

export interface ImportOptions {
  /** Names the image of an archive that carries none (OCI layouts often do not). */
  name?: string;
  onBytes?: (done: number) => void;
}

export async function importArchive(
  images: Images,
  source: Readable,
  options: ImportOptions = {},
): Promise<ImageRecord[]> {
  const tempRoot = path.join(images.content.ingestDir, `import-${crypto.randomUUID()}`);
  await fsp.mkdir(tempRoot, { recursive: true, mode: 0o700 });
  try {
    const dir = new ArchiveDir(tempRoot);
    await dir.load(source);
    // An OCI layout keeps the original manifests (and digests); prefer it when both are there.
    const found = dir.has('index.json')
      ? fromOciLayout(dir, options.name)
      : dir.has('manifest.json')
        ? await fromDockerArchive(dir)
        : undefined;
    if (!found)
      throw invalidArgument(
        'Cannot import the archive: it has neither manifest.json (docker-archive) nor index.json (OCI layout)',
      );
    const out: ImageRecord[] = [];
    for (const image of found) out.push(await installOne(images, image, options));
    return out;
  } finally {
    await fsp.rm(tempRoot, { recursive: true, force: true });
  }
}

async function installOne(images: Images, found: Found, options: ImportOptions): Promise<ImageRecord> {
  const { manifest } = found;
  const manifestDigest = sha256Of(found.manifestBytes);
  await images.content.put({ digest: manifestDigest }, found.manifestBytes, 'the imported manifest');
  const configBytes = fs.readFileSync(found.blobOf(manifest.config.digest));
  await images.content.put(manifest.config, configBytes, `the config ${manifest.config.digest}`);
  const config = parseImageConfig(configBytes, 'the imported image');
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalidArgument(
      'Cannot import the archive: its manifest and config disagree on the number of layers',
    );
  }
  const record = newImageRecord({
    manifest,
    manifestDigest,
    config,
    repoTags: found.names.map((n) => formatReference(parseReference(n))),
    repoDigests: [],
    blobs: [manifestDigest],
  });
  const signal = new AbortController().signal;
  let done = 0;
  for (const [i, layer] of manifest.layers.entries()) {
    const ids = { diffId: record.layers[i].diffId, chainId: record.layers[i].chainId };
    if (await images.snapshots.has(ids.chainId)) continue;
    await unpackLayer(
      layer,
      ids,
      { open: async (d) => fs.createReadStream(found.blobOf(d.digest)) },
      {
        content: images.content,
        snapshots: images.snapshots,
        expansion: expansionPolicy(images.settings),
        freeSpaceReserveBytes: images.settings.freeSpaceReserveBytes,
        native: images.native,
        onBytes: (n) => options.onBytes?.((done += n)),
      },
      signal,
    );
  }
  return images.store.put(record);
}
