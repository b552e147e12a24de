// The shapes of what a registry or an archive hands us — descriptors, manifests, indexes, image
// configs — as zod schemas, so manifest.ts refuses a malformed one naming the field.
import { z } from 'zod';

/** OCI digest grammar: algorithm ":" encoded; no '/', so a digest can never walk out of blobs/. */
const digest = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'not a digest');

/**
 * A descriptor's size bounds what is read for it, so it must be a real byte count: a negative,
 * fractional or missing size would turn the checks off.
 */
const descriptorSchema = z.object({
  mediaType: z.string(),
  digest,
  size: z.number().int('not a byte count').nonnegative('not a byte count').max(Number.MAX_SAFE_INTEGER),
  annotations: z.record(z.string()).optional(),
  platform: z
    .object({
      os: z.string().optional(),
      architecture: z.string().optional(),
      variant: z.string().optional(),
    })
    .optional(),
  urls: z.array(z.string()).optional(),
});

export const manifestSchema = z.object({
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});

export const indexSchema = z.object({
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});

/** Docker writes null for an empty list or map: read it as absent. */
const absentIfNull = <T extends z.ZodTypeAny>(schema: T) =>
  schema.nullish().transform((v): z.output<T> | undefined => v ?? undefined);

const stringList = z.array(z.string());
const emptyObjects = z.record(z.object({}).passthrough());

/** The parts of an image's config that the runtime uses (`config` of the config file). */
// Fields the runtime does not read (Healthcheck, OnBuild…) are kept: verbose ImageStatus shows them.
const imageConfigSchema = z
  .object({
    User: absentIfNull(z.string()),
    ExposedPorts: absentIfNull(emptyObjects),
    Env: absentIfNull(stringList),
    // null and absent mean the same here, and both are what images carry.
    Entrypoint: stringList.nullish(),
    Cmd: stringList.nullish(),
    Volumes: absentIfNull(emptyObjects),
    WorkingDir: absentIfNull(z.string()),
    Labels: absentIfNull(z.record(z.string())),
    StopSignal: absentIfNull(z.string()),
  })
  .passthrough();

export const imageConfigFileSchema = z
  .object({
    architecture: z.string().optional(),
    os: z.string().optional(),
    created: z.string().optional(),
    config: absentIfNull(imageConfigSchema),
    rootfs: z.object({ type: z.string(), diff_ids: z.array(digest) }),
  })
  .passthrough();

export type ImageConfig = z.output<typeof imageConfigSchema>;
export type ImageConfigFile = z.output<typeof imageConfigFileSchema>;
