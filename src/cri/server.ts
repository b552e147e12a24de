// The gRPC server: RuntimeService and ImageService on one unix socket, 0660 root.
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService';
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService';
import type { Logger } from '../common/log';
import type { SocketClaim } from '../common/socket_lock';
import { loadCri, MAX_MESSAGE_BYTES } from './proto';
import { withListStreams } from './list_streams';
import { bindService, RpcObserver, ServiceImpl } from './rpc';

export interface CriServerOptions {
  /** The socket path, already claimed (claimSocket) before anything else of the daemon started. */
  claim: SocketClaim;
  log: Logger;
  observer?: RpcObserver;
  runtime: ServiceImpl<RuntimeServiceHandlers>;
  image: ServiceImpl<ImageServiceHandlers>;
}

export interface CriServer {
  endpoint: string;
  /** Stops accepting calls, lets running ones finish for up to graceMs, then removes the socket. */
  stop(graceMs?: number): Promise<void>;
}

export async function startCriServer(options: CriServerOptions): Promise<CriServer> {
  const { grpcType } = loadCri();
  const { claim } = options;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  // Aborted at stop: endless streams (GetContainerEvents) end with UNAVAILABLE rather than wait.
  const closing = new AbortController();
  const runtimeDef = grpcType.runtime.v1.RuntimeService.service;
  const imageDef = grpcType.runtime.v1.ImageService.service;
  server.addService(
    runtimeDef,
    bindService(runtimeDef, withListStreams(options.runtime), {
      service: 'RuntimeService',
      log: options.log,
      observer: options.observer,
      closing: closing.signal,
    }),
  );
  server.addService(
    imageDef,
    bindService(imageDef, withListStreams(options.image), {
      service: 'ImageService',
      log: options.log,
      observer: options.observer,
      closing: closing.signal,
    }),
  );
  const endpoint = `unix://${claim.socketPath}`;
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(endpoint, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    fs.chmodSync(claim.socketPath, 0o660);
  } catch (err) {
    server.forceShutdown();
    claim.release();
    throw err;
  }
  return {
    endpoint,
    stop: async (graceMs = 5000) => {
      closing.abort();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      claim.release();
    },
  };
}
