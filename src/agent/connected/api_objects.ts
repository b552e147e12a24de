// The parts of API objects the agent reads by hand (beyond the pod spec, which pod_spec.ts parses):
// ConfigMap and Secret data, docker config secrets, TokenRequest answers, Status errors and the
// Node's conditions. Parsed, not cast: an object of the wrong shape is refused naming the field.
import { z } from 'zod';
import { parseWith } from '../../common/schema';

/** Throws `Cannot read <what>: <field>: <problem>` when `value` does not fit `schema`. */
export function readApiObject<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.output<S> {
  return parseWith(schema, value, (issues) => new Error(`Cannot read ${what}: ${issues}`));
}

/** A ConfigMap's or a Secret's data (strings; base64 in a Secret and in binaryData). */
export const keyDataSchema = z.object({
  data: z.record(z.string()).nullish(),
  binaryData: z.record(z.string()).nullish(),
});

const dockerAuthSchema = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
  auth: z.string().optional(),
});

/** .dockerconfigjson ({"auths": {server: …}}) or the older .dockercfg ({server: …}). */
export const dockerConfigSchema = z.union([
  z.object({ auths: z.record(dockerAuthSchema) }).transform((config) => config.auths),
  z.record(dockerAuthSchema),
]);

export const tokenRequestSchema = z.object({
  status: z.object({ token: z.string().min(1), expirationTimestamp: z.string().optional() }),
});

/** metav1.Status, as an error answer or a watch ERROR event carries it. */
export const apiStatusSchema = z.object({
  code: z.number().int().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export const nodeConditionsSchema = z
  .array(
    z.object({
      type: z.string(),
      status: z.enum(['True', 'False', 'Unknown']),
      reason: z.string().default(''),
      message: z.string().default(''),
      lastHeartbeatTime: z.string().default(''),
      lastTransitionTime: z.string().default(''),
    }),
  )
  .nullish();
