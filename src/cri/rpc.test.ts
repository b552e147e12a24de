import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { invalidArgument, notFound, NodeletError } from '../common/errors';
import { SysError } from '../runtime/sys';
import { bindService, toServiceError } from './rpc';
import { loadCri } from './proto';

const log = pino({ level: 'silent' });

describe('the RPC wrapper', () => {
  test('maps each error kind to the gRPC code the CRI expects', () => {
    expect(toServiceError(invalidArgument('bad')).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(toServiceError(notFound('gone')).code).toBe(grpc.status.NOT_FOUND);
    expect(toServiceError(new NodeletError('Unimplemented', 'x')).code).toBe(grpc.status.UNIMPLEMENTED);
    expect(toServiceError(new SysError('write', 28, '/x')).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(toServiceError(new Error('boom'))).toEqual({ code: grpc.status.UNKNOWN, details: 'boom' });
  });

  test('answers UNIMPLEMENTED, naming the RPC, for every method without an implementation', async () => {
    const def = loadCri().grpcType.runtime.v1.RuntimeService.service;
    const handlers = bindService(def, {}, { service: 'RuntimeService', log });
    expect(Object.keys(handlers)).toHaveLength(35);
    const result = await new Promise<{ err: grpc.ServiceError | null }>((resolve) => {
      const call = { request: {}, on: () => undefined, getDeadline: () => Infinity };
      (handlers.ListPodSandbox as grpc.handleUnaryCall<unknown, unknown>)(
        call as unknown as grpc.ServerUnaryCall<unknown, unknown>,
        (err) => resolve({ err: err as grpc.ServiceError | null }),
      );
    });
    expect(result.err?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(result.err?.details).toBe('RuntimeService/ListPodSandbox is not implemented by nodelet yet');
  });

  test('tells the observer the method, the code and the time taken', async () => {
    const def = loadCri().grpcType.runtime.v1.RuntimeService.service;
    const seen: string[] = [];
    const handlers = bindService(
      def,
      { Version: async () => ({ version: '0.1.0', runtime_name: 'nodelet' }) },
      {
        service: 'RuntimeService',
        log,
        observer: { started: (m) => seen.push(`start ${m}`), finished: (m, c) => seen.push(`end ${m} ${c}`) },
      },
    );
    await new Promise<void>((resolve) => {
      const call = { request: {}, on: () => undefined, getDeadline: () => Infinity };
      (handlers.Version as grpc.handleUnaryCall<unknown, unknown>)(
        call as unknown as grpc.ServerUnaryCall<unknown, unknown>,
        () => resolve(),
      );
    });
    expect(seen).toEqual(['start Version', 'end Version OK']);
  });
});
