// The container spec as a zod schema, for where a spec arrives as JSON from another process (the
// monitor reads it from the daemon's create request). Its output is checked against ContainerSpec
// at compile time below, so the two cannot drift apart silently.
import { z } from 'zod';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS, type ContainerSpec } from './types';

const int = z.number().int();
const count = int.nonnegative();
const strings = z.array(z.string());

const userSchema = z.object({
  uid: count,
  gid: count,
  umask: count.optional(),
  additionalGids: z.array(count),
  username: z.string().optional(),
});

const capabilitySetsSchema = z.object({
  bounding: strings,
  effective: strings,
  permitted: strings,
  inheritable: strings,
  ambient: strings,
});

const processSchema = z.object({
  terminal: z.boolean(),
  args: strings,
  env: strings,
  cwd: z.string(),
  user: userSchema,
  capabilities: capabilitySetsSchema.optional(),
  noNewPrivileges: z.boolean(),
  rlimits: z.array(z.object({ type: z.string(), soft: z.number(), hard: z.number() })),
  oomScoreAdj: int.optional(),
});

const idMappingSchema = z.object({ containerID: count, hostID: count, size: count });

const mountSchema = z.object({
  destination: z.string(),
  source: z.string(),
  type: z.string(),
  options: strings,
  uidMappings: z.array(idMappingSchema).optional(),
  gidMappings: z.array(idMappingSchema).optional(),
});

const seccompAction = z.enum(SECCOMP_ACTIONS);
const seccompOperator = z.enum(SECCOMP_OPERATORS);

const seccompSchema = z.object({
  defaultAction: seccompAction,
  defaultErrnoRet: count.optional(),
  architectures: strings,
  flags: strings.optional(),
  syscalls: z.array(
    z.object({
      names: strings,
      action: seccompAction,
      errnoRet: count.optional(),
      args: z
        .array(z.object({ index: count, value: count, valueTwo: count.optional(), op: seccompOperator }))
        .optional(),
    }),
  ),
});

const resourcesSchema = z.object({
  memory: z.object({ limit: int.optional(), swap: int.optional(), reservation: int.optional() }).optional(),
  cpu: z
    .object({
      shares: count.optional(),
      quota: int.optional(),
      period: count.optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
    })
    .optional(),
  pids: z.object({ limit: int }).optional(),
  hugepageLimits: z.array(z.object({ pageSize: z.string(), limit: count })).optional(),
  blockIO: z.object({ weight: count.optional() }).optional(),
  unified: z.record(z.string()).optional(),
  devices: z
    .array(
      z.object({
        allow: z.boolean(),
        type: z.enum(['a', 'c', 'b']).optional(),
        major: int.optional(),
        minor: int.optional(),
        access: z.string().optional(),
      }),
    )
    .optional(),
});

const linuxSchema = z.object({
  namespaces: z.array(
    z.object({
      type: z.enum(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup']),
      path: z.string().optional(),
    }),
  ),
  uidMappings: z.array(idMappingSchema).optional(),
  gidMappings: z.array(idMappingSchema).optional(),
  sysctl: z.record(z.string()),
  cgroupsPath: z.string().optional(),
  resources: resourcesSchema.optional(),
  seccomp: seccompSchema.optional(),
  seccompBpf: z.string().optional(),
  maskedPaths: strings,
  readonlyPaths: strings,
  rootfsPropagation: z.string().optional(),
  devices: z.array(
    z.object({
      path: z.string(),
      type: z.enum(['c', 'b', 'p', 'u']),
      major: count,
      minor: count,
      fileMode: count.optional(),
      uid: count.optional(),
      gid: count.optional(),
    }),
  ),
});

export const containerSpecSchema = z.object({
  id: z.string().min(1),
  root: z.object({
    path: z.string(),
    readonly: z.boolean(),
    overlay: z.object({ lowerDirs: strings, upperDir: z.string(), workDir: z.string() }).optional(),
  }),
  process: processSchema,
  hostname: z.string().optional(),
  mounts: z.array(mountSchema),
  linux: linuxSchema,
  annotations: z.record(z.string()).optional(),
});

// Compile-time: what the schema lets through is a ContainerSpec.
const _isContainerSpec: z.ZodType<ContainerSpec, z.ZodTypeDef, unknown> = containerSpecSchema;
void _isContainerSpec;
