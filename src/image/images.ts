// The image subsystem as the daemon and the CLI use it: content store, snapshots, image records,
// the puller and garbage collection over one state directory.
import path from 'node:path';
import type { Logger } from '../common/log';
import { ContentStore } from './content_store';
import type { ExpansionPolicy } from './decompress';
import { collectGarbage, GcResult } from './gc';
import { ImageRecord, ImageStore } from './image_store';
import {
  describeDecoders,
  findNativeDecoders,
  NativeDecoders,
  NativeDecompressMode,
} from './native_decompress';
import { Puller, PullObserver, PullProgress } from './puller';
import type { Credentials } from './registry_auth';
import { SnapshotStore } from './snapshots';

/** The `registry` section of the daemon configuration. */
export interface RegistrySettings {
  mirrors: Record<string, string[]>;
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  requestTimeoutSeconds: number;
  pullProgressTimeoutSeconds: number;
  retries: number;
  maxLayerExpansionRatio: number;
  layerExpansionFloorBytes: number;
  maxLayerBytes: number;
  maxUncompressedLayerBytes: number;
  freeSpaceReserveBytes: number;
  nativeDecompress: NativeDecompressMode;
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = {
  mirrors: {},
  insecureRegistries: [],
  maxConcurrentDownloads: 3,
  requestTimeoutSeconds: 30,
  pullProgressTimeoutSeconds: 60,
  retries: 3,
  maxLayerExpansionRatio: 100,
  layerExpansionFloorBytes: 1 << 30,
  maxLayerBytes: 16 * 2 ** 30,
  maxUncompressedLayerBytes: 32 * 2 ** 30,
  freeSpaceReserveBytes: 2 ** 30,
  nativeDecompress: 'auto',
};

export function expansionPolicy(settings: RegistrySettings): ExpansionPolicy {
  return {
    maxRatio: settings.maxLayerExpansionRatio,
    floorBytes: settings.layerExpansionFloorBytes,
    maxBytes: settings.maxUncompressedLayerBytes,
  };
}

export interface ImagesOptions {
  stateDir: string;
  registry?: Partial<RegistrySettings>;
  log?: Logger;
  observer?: PullObserver;
}

export class Images {
  readonly content: ContentStore;
  readonly snapshots: SnapshotStore;
  readonly store: ImageStore;
  readonly puller: Puller;
  /** The unpack limits of pulls, which imports obey too. */
  readonly settings: RegistrySettings;
  /** The child-process decompressors pulls and imports use (found once, at open). */
  readonly native: NativeDecoders;
  private inUse: () => Iterable<string> = () => [];

  private constructor(options: ImagesOptions) {
    const settings = { ...DEFAULT_REGISTRY_SETTINGS, ...options.registry };
    this.settings = settings;
    this.native = findNativeDecoders(settings.nativeDecompress);
    options.log?.info({ decompress: describeDecoders(this.native) }, 'layer decompression');
    this.content = new ContentStore(path.join(options.stateDir, 'content'));
    this.snapshots = new SnapshotStore(path.join(options.stateDir, 'snapshots'));
    this.store = new ImageStore(path.join(options.stateDir, 'images'));
    this.puller = new Puller({
      content: this.content,
      snapshots: this.snapshots,
      images: this.store,
      hosts: { mirrors: settings.mirrors, insecureRegistries: settings.insecureRegistries },
      timeouts: {
        requestTimeoutMs: settings.requestTimeoutSeconds * 1000,
        progressTimeoutMs: settings.pullProgressTimeoutSeconds * 1000,
        retries: settings.retries,
      },
      maxConcurrentDownloads: settings.maxConcurrentDownloads,
      expansion: expansionPolicy(settings),
      maxLayerBytes: settings.maxLayerBytes,
      freeSpaceReserveBytes: settings.freeSpaceReserveBytes,
      native: this.native,
      log: options.log,
      observer: options.observer,
    });
  }

  /** Opens (creating) the stores and removes what interrupted pulls left. */
  static async open(options: ImagesOptions): Promise<Images> {
    const images = new Images(options);
    await images.content.open();
    await images.snapshots.open();
    await images.store.open();
    return images;
  }

  /** Where snapshots live: the image filesystem ImageFsInfo reports. */
  get snapshotDir(): string {
    return this.snapshots.root;
  }

  pull(
    reference: string,
    opts: { creds?: Credentials; signal?: AbortSignal } & PullProgress = {},
  ): Promise<ImageRecord> {
    return this.puller.pull(reference, opts);
  }

  /** By id, short id, tag or digest reference; undefined when unknown. */
  resolve(reference: string): Promise<ImageRecord | undefined> {
    return this.store.resolve(reference);
  }

  list(): Promise<ImageRecord[]> {
    return this.store.list();
  }

  /** Removes the image a reference names, with all its tags, then collects garbage. False if unknown. */
  async remove(reference: string): Promise<boolean> {
    const image = await this.store.resolve(reference);
    if (!image) return false;
    await this.store.remove(image.id);
    await this.gc();
    return true;
  }

  /** overlayfs lowerdir entries for an image: the top layer first, as lowerdir= wants them. */
  lowerDirs(image: ImageRecord): string[] {
    return image.layers.map((l) => this.snapshots.fsOf(l.chainId)).reverse();
  }

  /**
   * Tells garbage collection which snapshots containers use (chain ids from `image.layers[].chainId`,
   * or the bare hex that names a snapshot's directory), so an image removed while its containers
   * live keeps its layers until they go.
   */
  setInUseSnapshots(source: () => Iterable<string>): void {
    this.inUse = source;
  }

  gc(): Promise<GcResult> {
    return collectGarbage({
      content: this.content,
      snapshots: this.snapshots,
      images: this.store,
      inUseSnapshots: this.inUse,
      inFlightSnapshots: () => this.puller.inFlightSnapshots(),
      busySince: () => this.puller.busySince(),
    });
  }
}
