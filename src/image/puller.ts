// Pulling an image: resolve the reference on the mirrors then the upstream, verify the manifest's
// digest, pick the platform from an index, fetch the config, then fetch and unpack the missing
// layers (a few at a time). The image record is written last, so a pull that fails or is killed
// half way leaves no image; what it left in the stores is removed or collected.
import path from 'node:path';
import { crashPoint } from '../common/crash_point';
import { failedPrecondition, isDiskFull, messageOf, NodeletError, resourceExhausted } from '../common/errors';
import type { Logger } from '../common/log';
import type { ContentStore, Descriptor } from './content_store';
import { DigestMismatchError, digestOf, parseDigest } from './digest';
import type { ExpansionPolicy } from './decompress';
import { belowReserve, freeBytes } from './disk_space';
import { MAX_MANIFEST_BYTES } from './limits';
import type { ImageRecord, ImageStore } from './image_store';
import { UnsafePathError } from './layer_paths';
import { newImageRecord } from './image_record';
import { LayerSource, unpackLayer } from './layer_unpack';
import type { NativeDecoders } from './native_decompress';
import { MANIFEST_ACCEPT, parseImageConfig, parseManifest, selectPlatform, ImageManifest } from './manifest';
import { formatReference, ImageRef, manifestReference, parseReference, repoName, tagOf } from './reference';
import { credentialsFor, Credentials } from './registry_auth';
import { RepositoryClient, RegistryTimeouts } from './registry_client';
import { endpointsFor, RegistryHostsConfig } from './registry_hosts';
import { SharedWork, mapLimit } from './shared_work';
import { chainIds, SnapshotStore } from './snapshots';

export interface PullerOptions {
  content: ContentStore;
  snapshots: SnapshotStore;
  images: ImageStore;
  hosts: RegistryHostsConfig;
  timeouts: RegistryTimeouts;
  maxConcurrentDownloads: number;
  expansion: ExpansionPolicy;
  /** The largest layer, compressed, a manifest may announce. */
  maxLayerBytes: number;
  /** Free space pulls leave on the filesystem of the state directory; 0 for no check. */
  freeSpaceReserveBytes: number;
  /** Child-process decompressors found on PATH (registry.nativeDecompress). */
  native?: NativeDecoders;
  log?: Logger;
  observer?: PullObserver;
}

/** Told of each pull that did the work (shared pulls count once) and of each layer it unpacked. */
export interface PullObserver {
  pulled(pull: { seconds: number; bytes: number }): void;
  failed(reason: unknown): void;
  /** A layer's download and unpack, which stream into each other. */
  unpacked(seconds: number, compression: LayerCompression): void;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface PullProgress {
  /** Compressed bytes received so far, and the total of the layers to fetch. */
  onBytes?: (received: number, total: number) => void;
}

export class Puller {
  private readonly pulls = new SharedWork<ImageRecord>();
  private readonly layers = new SharedWork<void>();
  private readonly started = new Map<symbol, number>();

  constructor(private readonly options: PullerOptions) {}

  /** Chain ids of snapshots being built now: garbage collection must leave them alone. */
  inFlightSnapshots(): string[] {
    return this.layers.keys();
  }

  /** When the oldest pull in flight started (ms since the epoch), or undefined when none runs. */
  busySince(): number | undefined {
    return this.started.size ? Math.min(...this.started.values()) : undefined;
  }

  /** Pulls an image; concurrent pulls of one reference share the work. */
  pull(
    reference: string,
    opts: { creds?: Credentials; signal?: AbortSignal } & PullProgress = {},
  ): Promise<ImageRecord> {
    const ref = parseReference(reference);
    return this.pulls.run(formatReference(ref), opts.signal, async (signal) => {
      const token = Symbol(reference);
      this.started.set(token, Date.now());
      const began = performance.now();
      let bytes = 0;
      const counted: PullProgress = {
        onBytes: (received, total) => {
          bytes = received;
          opts.onBytes?.(received, total);
        },
      };
      try {
        const image = await this.pullOnce(ref, { ...opts, ...counted }, signal);
        this.options.observer?.pulled({ seconds: (performance.now() - began) / 1000, bytes });
        return image;
      } catch (err) {
        this.options.observer?.failed(err);
        throw err;
      } finally {
        this.started.delete(token);
      }
    });
  }

  private async pullOnce(ref: ImageRef, opts: { creds?: Credentials } & PullProgress, signal: AbortSignal) {
    const what = formatReference(ref);
    try {
      const { client, bytes, digest } = await this.resolve(ref, opts.creds, signal);
      const blobs = [digest];
      await this.options.content.put({ digest }, bytes, `manifest of ${what}`);
      let manifest: ImageManifest;
      const parsed = parseManifest(bytes, undefined, what);
      if (parsed.kind === 'index') {
        const chosen = selectPlatform(parsed.index, what);
        const raw = await this.fetchJson(client, chosen, 'manifest', signal, true);
        const inner = parseManifest(raw, chosen.mediaType, what);
        if (inner.kind !== 'manifest')
          throw failedPrecondition(`Cannot pull ${what}: an index points to another index`);
        manifest = inner.manifest;
        blobs.push(chosen.digest);
      } else {
        manifest = parsed.manifest;
      }
      const manifestDigest = blobs[blobs.length - 1];
      const configBytes = await this.fetchJson(client, manifest.config, 'config', signal, false);
      const config = parseImageConfig(configBytes, what);
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== manifest.layers.length) {
        throw failedPrecondition(
          `Cannot pull ${what}: the manifest has ${manifest.layers.length} layers, the config ${diffIds.length} diff ids`,
        );
      }
      const chains = chainIds(diffIds);
      await this.unpackAll(manifest.layers, diffIds, chains, client, opts, signal);
      const record = newImageRecord({
        manifest,
        manifestDigest,
        config,
        repoTags: tagOf(ref) ? [tagOf(ref)!] : [],
        repoDigests: [`${repoName(ref)}@${digest}`],
        blobs,
      });
      crashPoint('pull-image/before-record');
      const saved = await this.options.images.put(record);
      this.options.log?.info({ image: what, id: saved.id }, 'image pulled');
      return saved;
    } catch (err) {
      throw explain(err, what, path.dirname(this.options.content.root));
    }
  }

  /** Mirrors in order, then the upstream; the first endpoint that has the manifest wins. */
  private async resolve(ref: ImageRef, creds: Credentials | undefined, signal: AbortSignal) {
    const errors: string[] = [];
    let last: unknown;
    for (const endpoint of endpointsFor(ref.domain, this.options.hosts)) {
      const client = new RepositoryClient(endpoint, ref.path, {
        timeouts: this.options.timeouts,
        hosts: this.options.hosts,
        creds: credentialsFor(creds, endpoint.host, endpoint.mirror),
      });
      try {
        const answer = await client.manifest(manifestReference(ref), MANIFEST_ACCEPT, signal);
        const algorithm = ref.digest ? parseDigest(ref.digest).algorithm : 'sha256';
        const digest = digestOf(answer.bytes, algorithm);
        if (ref.digest && digest !== ref.digest) {
          throw new DigestMismatchError(
            `the manifest served by ${client.describe()} has digest ${digest}, not ${ref.digest}`,
          );
        }
        if (answer.digest && answer.digest.startsWith(`${algorithm}:`) && answer.digest !== digest) {
          throw new DigestMismatchError(
            `the manifest served by ${client.describe()} has digest ${digest}, its header says ${answer.digest}`,
          );
        }
        return { client, bytes: answer.bytes, digest };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        last = err;
        errors.push(messageOf(err));
        if (err instanceof DigestMismatchError) throw err;
        this.options.log?.debug({ endpoint: endpoint.host, err: messageOf(err) }, 'registry endpoint failed');
      }
    }
    if (errors.length > 1 && last instanceof NodeletError)
      throw new NodeletError(last.kind, errors.join('; then '));
    throw last;
  }

  /** A manifest or config blob: small, verified, kept in the content store. */
  private async fetchJson(
    client: RepositoryClient,
    desc: Descriptor,
    kind: string,
    signal: AbortSignal,
    manifest: boolean,
  ) {
    const { content } = this.options;
    if (await content.has(desc.digest)) return content.read(desc.digest);
    if (desc.size > MAX_MANIFEST_BYTES) {
      throw resourceExhausted(
        `Cannot pull the ${kind} ${desc.digest}: it is announced as ${desc.size} bytes, more than the ${MAX_MANIFEST_BYTES} bytes allowed`,
      );
    }
    const bytes = manifest
      ? (await client.manifest(desc.digest, MANIFEST_ACCEPT, signal)).bytes
      : await readAll(await client.blob(desc.digest, signal, desc.size));
    await content.put({ digest: desc.digest, size: desc.size }, bytes, `the ${kind} ${desc.digest}`);
    return bytes;
  }

  private async unpackAll(
    layers: Descriptor[],
    diffIds: string[],
    chains: string[],
    client: RepositoryClient,
    progress: PullProgress,
    signal: AbortSignal,
  ): Promise<void> {
    const { snapshots } = this.options;
    const missing: number[] = [];
    for (let i = 0; i < layers.length; i++) if (!(await snapshots.has(chains[i]))) missing.push(i);
    for (const i of missing) {
      if (layers[i].size > this.options.maxLayerBytes) {
        throw resourceExhausted(
          `Cannot pull layer ${layers[i].digest}: it is announced as ${layers[i].size} bytes, more than the ${this.options.maxLayerBytes} bytes registry.maxLayerBytes allows`,
        );
      }
    }
    const total = missing.reduce((n, i) => n + layers[i].size, 0);
    await this.checkFreeSpace(total);
    let received = 0;
    const source: LayerSource = {
      open: (desc, s) => client.blob(desc.digest, s, desc.size),
      openFrom: (desc, s, offset) => client.blobFrom(desc.digest, s, { size: desc.size, offset }),
    };
    await mapLimit(missing, this.options.maxConcurrentDownloads, (i) =>
      this.layers.run(chains[i], signal, (shared) =>
        this.timedUnpack(layers[i].mediaType, () =>
          withRetries(this.options.timeouts.retries, shared, () =>
            unpackLayer(
              layers[i],
              { diffId: diffIds[i], chainId: chains[i] },
              source,
              {
                content: this.options.content,
                snapshots,
                expansion: this.options.expansion,
                freeSpaceReserveBytes: this.options.freeSpaceReserveBytes,
                native: this.options.native,
                onBytes: (n) => progress.onBytes?.((received += n), total),
              },
              shared,
            ),
          ),
        ),
      ),
    );
  }

  /** The layers, as announced, must fit without eating into the reserve (they unpack to more). */
  private async checkFreeSpace(announced: number): Promise<void> {
    const reserve = this.options.freeSpaceReserveBytes;
    if (reserve === 0 || announced === 0) return;
    const dir = this.options.snapshots.root;
    const free = await freeBytes(dir);
    if (free - announced < reserve)
      throw belowReserve(dir, free, reserve, `its layers need ${announced} bytes`);
  }

  private async timedUnpack(mediaType: string, work: () => Promise<void>): Promise<void> {
    const began = performance.now();
    await work();
    this.options.observer?.unpacked((performance.now() - began) / 1000, compressionOf(mediaType));
  }
}

function compressionOf(mediaType: string): LayerCompression {
  if (mediaType.includes('zstd')) return 'zstd';
  if (mediaType.includes('gzip')) return 'gzip';
  return 'none';
}

/**
 * Starts a layer again when its transfer broke off (the registry went quiet or dropped the
 * connection): the request-level retries cover only the time until the headers arrive.
 */
async function withRetries<T>(retries: number, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const transient = err instanceof NodeletError && err.kind === 'Unavailable';
      if (!transient || n >= retries || signal.aborted) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** n, 5000)));
    }
  }
}

/** A config blob; the client stops it past its announced size, which is at most 4 MiB. */
async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Content that fails a check, or a full disk, becomes one clear error naming the image. */
function explain(err: unknown, what: string, stateDir: string): unknown {
  if (isDiskFull(err)) {
    return resourceExhausted(
      `Cannot pull ${what}: the filesystem of the state directory '${stateDir}' has no space left (${messageOf(err)}); what it had half written was removed`,
      err,
    );
  }
  if (err instanceof DigestMismatchError || err instanceof UnsafePathError) {
    return failedPrecondition(`Cannot pull ${what}: ${err.message}`, err);
  }
  if (err instanceof NodeletError && !err.message.includes(what)) {
    return new NodeletError(err.kind, `Cannot pull ${what}: ${err.message}`, { cause: err });
  }
  if (!(err instanceof NodeletError) && err instanceof Error && err.name !== 'SysError') {
    return failedPrecondition(`Cannot pull ${what}: ${err.message}`, err);
  }
  return err;
}
