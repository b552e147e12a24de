// Manifests and indexes: the media types nodelet accepts, parsing with clear refusals, and the
// choice of the platform's manifest in a multi-platform index.
import type { z } from 'zod';
import { invalidArgument } from '../common/errors';
import { parseWith } from '../common/schema';
import type { Descriptor } from './content_store';
import {
  imageConfigFileSchema,
  indexSchema,
  manifestSchema,
  type ImageConfig,
  type ImageConfigFile,
} from './manifest_schema';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.dockerList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
].join(', ');

export type ImageManifest = z.output<typeof manifestSchema> & { mediaType: string };
export type ImageIndex = z.output<typeof indexSchema> & { mediaType: string };

export type Parsed = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

const FOREIGN_LAYER = /foreign|nondistributable/;
const INDEX_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerList];
const MANIFEST_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];

/** Parses a manifest or index; `headerType` is the Content-Type the registry sent, if any. */
export function parseManifest(bytes: Buffer, headerType: string | undefined, what: string): Parsed {
  const doc = readJsonObject(bytes, `the manifest of ${what}`);
  const mediaType =
    (typeof doc.mediaType === 'string' && doc.mediaType) || (headerType ?? '').split(';')[0].trim();
  if (
    doc.schemaVersion === 1 ||
    mediaType === MediaType.dockerSchema1 ||
    mediaType === MediaType.dockerSchema1Signed
  ) {
    throw invalidArgument(
      `Cannot pull ${what}: it has a Docker schema 1 manifest, which nodelet does not support; push it again with a current tool`,
    );
  }
  const refuse = (issues: string) => invalidArgument(`Cannot read the manifest of ${what}: ${issues}`);
  if (INDEX_TYPES.includes(mediaType) || (!MANIFEST_TYPES.includes(mediaType) && 'manifests' in doc)) {
    const index = parseWith(indexSchema, doc, refuse);
    return { kind: 'index', index: { ...index, mediaType: mediaType || MediaType.ociIndex } };
  }
  if (MANIFEST_TYPES.includes(mediaType) || 'config' in doc || 'layers' in doc) {
    const parsed = parseWith(manifestSchema, doc, refuse);
    const manifest = { ...parsed, mediaType: mediaType || MediaType.ociManifest };
    for (const layer of manifest.layers) {
      if (FOREIGN_LAYER.test(layer.mediaType)) {
        throw invalidArgument(
          `Cannot pull ${what}: it has a foreign (non-distributable) layer ${layer.digest}`,
        );
      }
    }
    return { kind: 'manifest', manifest };
  }
  throw invalidArgument(
    `Cannot read the manifest of ${what}: media type '${mediaType || 'unknown'}' is neither an image manifest nor an index`,
  );
}

function readJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidArgument(`Cannot read ${what}: it is not JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw invalidArgument(`Cannot read ${what}: it is not a JSON object`);
  }
  return doc as Record<string, unknown>;
}

/** The node's platform in OCI terms. */
function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    ia32: '386',
  };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** Picks the entry of an index for this platform (linux/amd64 here). */
export function selectPlatform(index: ImageIndex, what: string, platform = hostPlatform()): Descriptor {
  const candidates = index.manifests.filter(
    (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture,
  );
  const chosen = candidates.find((m) => !m.platform?.variant || m.platform.variant === 'v8') ?? candidates[0];
  if (!chosen) {
    const offered = index.manifests
      .map((m) => `${m.platform?.os ?? '?'}/${m.platform?.architecture ?? '?'}`)
      .join(', ');
    throw invalidArgument(
      `Cannot pull ${what}: it has no ${platform.os}/${platform.architecture} image (offered: ${offered || 'none'})`,
    );
  }
  return chosen;
}

export type { ImageConfig, ImageConfigFile };

/** Parses an image's config; a field of the wrong shape is refused by its path. */
export function parseImageConfig(bytes: Buffer, what: string): ImageConfigFile {
  return parseWith(imageConfigFileSchema, readJsonObject(bytes, `the config of ${what}`), (issues) =>
    invalidArgument(`Cannot read the config of ${what}: ${issues}`),
  );
}
