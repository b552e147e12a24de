// Builds the record of an image from its manifest and config, the same way for pulls and imports.
import type { ImageRecord } from './image_store';
import type { ImageConfigFile, ImageManifest } from './manifest';
import { chainIds } from './snapshots';

export interface RecordInput {
  manifest: ImageManifest;
  manifestDigest: string;
  config: ImageConfigFile;
  repoTags: string[];
  repoDigests: string[];
  /** Other blobs the image holds (an index, the manifest itself). */
  blobs: string[];
}

export function newImageRecord(input: RecordInput): ImageRecord {
  const { manifest, config } = input;
  const diffIds = config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  return {
    version: 1,
    id: manifest.config.digest,
    repoTags: input.repoTags,
    repoDigests: input.repoDigests,
    manifestDigest: input.manifestDigest,
    blobs: [...new Set([...input.blobs, manifest.config.digest, ...manifest.layers.map((l) => l.digest)])],
    size: manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
    layers: manifest.layers.map((l, i) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      diffId: diffIds[i],
      chainId: chains[i],
    })),
    config: config.config ?? {},
    pinned: false,
    createdAt: new Date().toISOString(),
  };
}
