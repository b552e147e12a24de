// The shape of a CDI spec file (github.com/cncf-tags/container-device-interface, specs-go/config.go)
// as a zod schema. Unknown keys are refused, as the CDI library's strict YAML decoding refuses
// them: a field we do not know could change what the container gets, so the file is skipped whole.
import { z } from 'zod';

/** The spec versions the CDI library (v0.8/v1.0) reads; 0.1.0 and 0.2.0 predate today's layout. */
export const CDI_VERSIONS = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '1.0.0'] as const;

/** "KEY=value", with a non-empty key (the library's ValidateEnv). */
const envEntry = z.string().regex(/^[^=]+=/, 'not a KEY=value entry');

const deviceNodeSchema = z
  .object({
    path: z.string().min(1, 'empty device path'),
    hostPath: z.string().min(1).optional(),
    type: z.enum(['b', 'c', 'u', 'p', '']).optional(),
    // A negative number would be the OCI wildcard: the library refuses it, so do we.
    major: z.number().int().nonnegative().optional(),
    minor: z.number().int().nonnegative().optional(),
    fileMode: z.number().int().min(0).max(0o7777).optional(),
    permissions: z
      .string()
      .regex(/^(?:[rwm]*|none)$/, 'not a subset of "rwm" nor "none"')
      .optional(),
    uid: z.number().int().nonnegative().optional(),
    gid: z.number().int().nonnegative().optional(),
  })
  .strict();

const mountSchema = z
  .object({
    hostPath: z.string().min(1, 'empty host path'),
    containerPath: z.string().min(1, 'empty container path'),
    options: z.array(z.string()).optional(),
    type: z.string().optional(),
  })
  .strict();

export const CDI_HOOK_NAMES = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;

const hookSchema = z
  .object({
    hookName: z.enum(CDI_HOOK_NAMES),
    path: z.string().min(1, 'empty hook path'),
    args: z.array(z.string()).optional(),
    env: z.array(envEntry).optional(),
    timeout: z.number().int().positive().optional(),
  })
  .strict();

const intelRdtSchema = z
  .object({
    closID: z.string().optional(),
    l3CacheSchema: z.string().optional(),
    memBwSchema: z.string().optional(),
    schemata: z.array(z.string()).optional(),
    enableCMT: z.boolean().optional(),
    enableMBM: z.boolean().optional(),
    enableMonitoring: z.boolean().optional(),
  })
  .strict();

export const containerEditsSchema = z
  .object({
    env: z.array(envEntry).optional(),
    deviceNodes: z.array(deviceNodeSchema).optional(),
    hooks: z.array(hookSchema).optional(),
    mounts: z.array(mountSchema).optional(),
    intelRdt: intelRdtSchema.optional(),
    additionalGids: z.array(z.number().int().nonnegative().max(0xffffffff)).optional(),
  })
  .strict();

const annotations = z.record(z.string());

const deviceSchema = z
  .object({
    name: z.string(),
    annotations: annotations.optional(),
    containerEdits: containerEditsSchema,
  })
  .strict();

export const cdiSpecSchema = z
  .object({
    cdiVersion: z.string(),
    kind: z.string(),
    annotations: annotations.optional(),
    devices: z.array(deviceSchema).min(1, 'invalid spec, no devices'),
    containerEdits: containerEditsSchema.optional(),
  })
  .strict();

export type CdiSpecFile = z.output<typeof cdiSpecSchema>;
export type CdiDeviceEntry = z.output<typeof deviceSchema>;
export type CdiContainerEdits = z.output<typeof containerEditsSchema>;
export type CdiDeviceNode = z.output<typeof deviceNodeSchema>;
export type CdiMount = z.output<typeof mountSchema>;
export type CdiHook = z.output<typeof hookSchema>;
