// The Docker/moby seccomp profile format as a zod schema: a Localhost profile is a file on the host
// that the CRI points us at, so it is parsed, not cast, and a malformed one is refused naming the
// field. Messages never quote a value from the file (it may be any file the caller can name).
import { z } from 'zod';
import { invalidArgument } from '../../../common/errors';
import { parseWith } from '../../../common/schema';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from '../../spec';

/** An enum whose refusal names what was expected, not the value the file held. */
const oneOf = <T extends [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, {
    errorMap: (issue, ctx) => ({ message: issue.code === 'invalid_enum_value' ? what : ctx.defaultError }),
  });
const action = oneOf([...SECCOMP_ACTIONS], 'not a seccomp action (SCMP_ACT_*)');
const operator = oneOf([...SECCOMP_OPERATORS], 'not a seccomp operator (SCMP_CMP_*)');
const count = z.number().int().nonnegative();
const strings = z.array(z.string());

const filterSchema = z.object({
  caps: strings.optional(),
  arches: strings.optional(),
  minKernel: z.string().optional(),
});

const ruleSchema = z.object({
  name: z.string().optional(),
  names: strings.optional(),
  action,
  errnoRet: count.optional(),
  args: z
    .array(
      z.object({
        index: count.max(5, 'a syscall has six arguments (0-5)'),
        value: count,
        valueTwo: count.optional(),
        op: operator,
      }),
    )
    .nullish(),
  includes: filterSchema.optional(),
  excludes: filterSchema.optional(),
  comment: z.string().optional(),
});

const seccompProfileSchema = z.object({
  defaultAction: action,
  defaultErrnoRet: count.optional(),
  architectures: strings.nullish(),
  archMap: z.array(z.object({ architecture: z.string(), subArchitectures: strings.nullable() })).nullish(),
  flags: strings.nullish(),
  syscalls: z.array(ruleSchema).nullish(),
});

export type DockerSeccompProfile = z.output<typeof seccompProfileSchema>;
export type DockerSeccompRule = NonNullable<DockerSeccompProfile['syscalls']>[number];

/** Parses an untrusted profile (a Localhost file): a field of the wrong shape is refused by its path. */
export function parseSeccompProfile(doc: unknown, where: string): DockerSeccompProfile {
  return parseWith(seccompProfileSchema, doc, (issues) =>
    invalidArgument(`Cannot use seccomp profile '${where}': ${issues}`),
  );
}
