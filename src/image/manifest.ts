// Manifests and indexes: the media types nodelet accepts, parsing with clear refusals, and the
// choice of the platform's manifest in a multi-platform index.
import { invalidArgument } from '../common/errors';
import type { Descriptor } from './content_store';

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

export interface ImageManifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  mediaType: string;
  manifests: Descriptor[];
}

export type Parsed = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

const FOREIGN_LAYER = /foreign|nondistributable/;

/** Parses a manifest or index; `headerType` is the Content-Type the registry sent, if any. */
export function parseManifest(bytes: Buffer, headerType: string | undefined, what: string): Parsed {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidArgument(`Cannot read the manifest of ${what}: it is not JSON`);
  }
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
  if (Array.isArray(doc.manifests)) {
    for (const entry of doc.manifests as Descriptor[]) checkDescriptor(entry, what);
    return {
      kind: 'index',
      index: { mediaType: mediaType || MediaType.ociIndex, manifests: doc.manifests as Descriptor[] },
    };
  }
  if (doc.config && Array.isArray(doc.layers)) {
    const manifest = {
      mediaType: mediaType || MediaType.ociManifest,
      config: doc.config as Descriptor,
      layers: doc.layers as Descriptor[],
    };
    checkDescriptor(manifest.config, what);
    for (const layer of manifest.layers) {
      checkDescriptor(layer, what);
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

/**
 * A descriptor's size bounds what is read for it, so it must be a real byte count: a negative,
 * fractional or missing size would turn the checks off.
 */
function checkDescriptor(desc: Descriptor, what: string): void {
  if (typeof desc !== 'object' || desc === null || typeof desc.digest !== 'string') {
    throw invalidArgument(`Cannot read the manifest of ${what}: a descriptor has no digest`);
  }
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw invalidArgument(
      `Cannot read the manifest of ${what}: the size of ${desc.digest} is ${JSON.stringify(desc.size)}, not a byte count`,
    );
  }
}

/** The node's platform in OCI terms. */
export function hostPlatform(): { os: string; architecture: string } {
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

/** The parts of an image's config that the runtime uses. */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  created?: string;
  config?: ImageConfig;
  rootfs: { type: string; diff_ids: string[] };
}

export function parseImageConfig(bytes: Buffer, what: string): ImageConfigFile {
  let doc: ImageConfigFile;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ImageConfigFile;
  } catch {
    throw invalidArgument(`Cannot read the config of ${what}: it is not JSON`);
  }
  if (!doc.rootfs || !Array.isArray(doc.rootfs.diff_ids)) {
    throw invalidArgument(`Cannot read the config of ${what}: it has no rootfs.diff_ids`);
  }
  return doc;
}
