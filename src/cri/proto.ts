// Loads proto/cri/api.proto once. The options keep the wire's meaning intact: field names as
// written (pod_sandbox_id), int64 as decimal strings (nanosecond timestamps exceed 2^53), enums as
// names, and defaults filled in so an absent repeated field reads as [] (unset messages stay null,
// which keeps "empty seccomp" apart from "no seccomp").
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../gen/api';

export const CRI_PROTO_PATH = path.resolve(__dirname, '..', '..', 'proto', 'cri', 'api.proto');

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The kubelet sends and accepts messages up to 16 MiB; so do we. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

let cached: { definition: protoLoader.PackageDefinition; grpcType: ProtoGrpcType } | undefined;

export function loadCri(): { definition: protoLoader.PackageDefinition; grpcType: ProtoGrpcType } {
  if (!cached) {
    const definition = protoLoader.loadSync(CRI_PROTO_PATH, PROTO_LOADER_OPTIONS);
    const grpcType = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
    cached = { definition, grpcType };
  }
  return cached;
}
