import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { CRI_PROTO_PATH, loadCri, PROTO_LOADER_OPTIONS } from './proto';

// The 41 RPCs of runtime.v1 as published with Kubernetes 1.36.
const RUNTIME_RPCS = [
  'Version',
  'RunPodSandbox',
  'StopPodSandbox',
  'RemovePodSandbox',
  'PodSandboxStatus',
  'ListPodSandbox',
  'StreamPodSandboxes',
  'CreateContainer',
  'StartContainer',
  'StopContainer',
  'RemoveContainer',
  'ListContainers',
  'StreamContainers',
  'ContainerStatus',
  'UpdateContainerResources',
  'ReopenContainerLog',
  'ExecSync',
  'Exec',
  'Attach',
  'PortForward',
  'ContainerStats',
  'ListContainerStats',
  'StreamContainerStats',
  'PodSandboxStats',
  'ListPodSandboxStats',
  'StreamPodSandboxStats',
  'UpdateRuntimeConfig',
  'Status',
  'CheckpointContainer',
  'GetContainerEvents',
  'ListMetricDescriptors',
  'ListPodSandboxMetrics',
  'StreamPodSandboxMetrics',
  'RuntimeConfig',
  'UpdatePodSandboxResources',
];
const IMAGE_RPCS = ['ListImages', 'StreamImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo'];
const STREAMING_RPCS = [
  'StreamPodSandboxes',
  'StreamContainers',
  'StreamContainerStats',
  'StreamPodSandboxStats',
  'GetContainerEvents',
  'StreamPodSandboxMetrics',
  'StreamImages',
];

// keepCase: field names as written in the proto, as proto-loader gives them to handlers.
const root = new protobuf.Root().loadSync(CRI_PROTO_PATH, { keepCase: true });
const pkg = root.lookup('runtime.v1') as protobuf.Namespace;

function allTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type)
      out.push(...allTypes(nested));
  }
  return out;
}

/** A value for every field, none of them the default, so a lost or renumbered field shows. */
function sample(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  type.fieldsArray.forEach((field, i) => {
    field.resolve();
    const one = (): unknown => {
      if (field.resolvedType instanceof protobuf.Enum) {
        const names = Object.keys(field.resolvedType.values);
        return names[Math.min(1, names.length - 1)];
      }
      if (field.resolvedType instanceof protobuf.Type) {
        return depth < 3 ? sample(field.resolvedType, depth + 1) : {};
      }
      switch (field.type) {
        case 'string':
          return `${field.name}-${i}`;
        case 'bool':
          return true;
        case 'bytes':
          return Buffer.from(`b${i}`);
        case 'double':
          return 1.5 + i;
        case 'int64':
        case 'uint64':
          return '1795386109102269123';
        default:
          return 7 + i;
      }
    };
    if (field.map) msg[field.name] = { k1: 'v1', k2: 'v2' };
    else if (field.repeated) msg[field.name] = [one(), one()];
    else msg[field.name] = one();
  });
  return msg;
}

describe('the CRI proto', () => {
  test('declares exactly the 41 RPCs of runtime.v1, seven of them server-streaming', () => {
    const runtime = pkg.lookupService('RuntimeService');
    const image = pkg.lookupService('ImageService');
    expect(Object.keys(runtime.methods)).toEqual(RUNTIME_RPCS);
    expect(Object.keys(image.methods)).toEqual(IMAGE_RPCS);
    const streaming = [...runtime.methodsArray, ...image.methodsArray]
      .filter((m) => m.responseStream)
      .map((m) => m.name);
    expect(streaming.sort()).toEqual([...STREAMING_RPCS].sort());
    expect([...runtime.methodsArray, ...image.methodsArray].some((m) => m.requestStream)).toBe(false);
  });

  test('loads in grpc-js as the runtime.v1 services the kubelet calls', () => {
    const { grpcType } = loadCri();
    const runtime = grpcType.runtime.v1.RuntimeService.service;
    expect(runtime.Version.path).toBe('/runtime.v1.RuntimeService/Version');
    expect(grpcType.runtime.v1.ImageService.service.ImageFsInfo.path).toBe(
      '/runtime.v1.ImageService/ImageFsInfo',
    );
    expect(new grpc.Server()).toBeDefined();
  });

  test('has 170 messages and 11 enums', () => {
    const types = allTypes(pkg);
    const enums = (ns: protobuf.NamespaceBase): number =>
      ns.nestedArray.reduce(
        (n, x) => n + (x instanceof protobuf.Enum ? 1 : x instanceof protobuf.Namespace ? enums(x) : 0),
        0,
      );
    expect(types).toHaveLength(170);
    expect(enums(pkg)).toBe(11);
  });

  test.each(allTypes(pkg).map((t) => [t.name, t] as const))(
    'round-trips every field of %s',
    (_name, type) => {
      const original = sample(type);
      const wire = type.encode(type.fromObject(original)).finish();
      const decoded = type.toObject(type.decode(wire), { ...PROTO_LOADER_OPTIONS, bytes: Buffer });
      expect(decoded).toEqual(
        type.toObject(type.fromObject(original), { ...PROTO_LOADER_OPTIONS, bytes: Buffer }),
      );
      for (const field of type.fieldsArray) expect(decoded[field.name]).toBeDefined();
    },
  );

  test('keeps the field numbers that break a positional encoder', () => {
    const num = (msg: string, field: string) => pkg.lookupType(msg).fields[field].id;
    expect(num('Namespace', 'options')).toBe(2);
    expect(num('ImageSpec', 'user_specified_image')).toBe(18);
    expect(num('ImageSpec', 'runtime_handler')).toBe(19);
    expect(num('ImageSpec', 'image_ref')).toBe(20);
    expect(num('LinuxSandboxSecurityContext', 'run_as_group')).toBe(8);
    expect(num('LinuxContainerSecurityContext', 'supplemental_groups_policy')).toBe(17);
    expect(pkg.lookupType('KeyValue').fields.value.type).toBe('bytes');
  });

  test('carries a nanosecond timestamp through the grpc-js codec without losing a digit', () => {
    const { definition } = loadCri();
    const method = definition['runtime.v1.RuntimeService'] as grpc.ServiceDefinition;
    const status = method.PodSandboxStatus;
    const wire = status.responseSerialize({ status: { id: 'x', created_at: '1795386109102269123' } });
    const back = status.responseDeserialize(wire) as { status: { created_at: string } };
    expect(back.status.created_at).toBe('1795386109102269123');
  });
});
