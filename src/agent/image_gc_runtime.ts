// The ImageService calls image GC makes beyond the agent's CriRuntime (ListImages, RemoveImage,
// ImageFsInfo), and the image filesystem's capacity from statfs of the mountpoint CRI reports.
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadCri, MAX_MESSAGE_BYTES } from '../cri/proto';
import type { Image__Output } from '../gen/runtime/v1/Image';
import type { ImageFsInfoResponse__Output } from '../gen/runtime/v1/ImageFsInfoResponse';
import { grpcTarget } from './cri_client';
import type { FsStats } from './image_gc';

export interface ImageGcRuntime {
  listImages(): Promise<Image__Output[]>;
  removeImage(imageId: string): Promise<void>;
  imageFsInfo(): Promise<ImageFsInfoResponse__Output>;
  /** The image references of every container, running or not. */
  containerImageRefs(): Promise<string[]>;
}

type Callback = (err: grpc.ServiceError | null, value?: unknown) => void;
type UnaryMethod = (req: unknown, options: grpc.CallOptions, cb: Callback) => unknown;

export class ImageGcClient implements ImageGcRuntime {
  private readonly images: grpc.Client;
  private readonly runtime: grpc.Client;

  constructor(
    endpoint: string,
    private readonly timeoutMs = 120_000,
  ) {
    const { grpcType } = loadCri();
    const opts = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES };
    const creds = grpc.credentials.createInsecure();
    this.images = new grpcType.runtime.v1.ImageService(grpcTarget(endpoint), creds, opts);
    this.runtime = new grpcType.runtime.v1.RuntimeService(grpcTarget(endpoint), creds, opts);
  }

  close(): void {
    this.images.close();
    this.runtime.close();
  }

  private call<T>(client: grpc.Client, method: string, req: unknown): Promise<T> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    return new Promise<T>((resolve, reject) => {
      fn.call(client, req, { deadline: Date.now() + this.timeoutMs }, (err, value) => {
        if (err)
          reject(Object.assign(err, { message: `Cannot call ${method}: ${err.details || err.message}` }));
        else resolve(value as T);
      });
    });
  }

  async listImages() {
    return (await this.call<{ images: Image__Output[] }>(this.images, 'ListImages', {})).images;
  }
  async removeImage(imageId: string) {
    await this.call(this.images, 'RemoveImage', { image: { image: imageId } });
  }
  imageFsInfo() {
    return this.call<ImageFsInfoResponse__Output>(this.images, 'ImageFsInfo', {});
  }
  async containerImageRefs() {
    type Listed = { image_ref: string; image_id?: string; image: { image: string } | null };
    const { containers } = await this.call<{ containers: Listed[] }>(this.runtime, 'ListContainers', {});
    return containers.flatMap((c) => [c.image_ref, c.image_id ?? '', c.image?.image ?? ''].filter(Boolean));
  }
}

/** Capacity and free space of the filesystem holding `mountpoint` (free as unprivileged users see it). */
export function statFs(mountpoint: string): FsStats {
  const s = fs.statfsSync(mountpoint);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
}
