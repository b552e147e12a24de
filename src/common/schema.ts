// What comes from outside (a registry, a file we were pointed at, a peer process) is parsed with a
// zod schema, never cast: a malformed value is refused with the path of the field that is wrong.
import type { z } from 'zod';

/**
 * A zod error as one line: where, and what is wrong there ("layers.0.size: Expected number…");
 * `under` names the field the parsed value sits in ("params" → "params.spec.id").
 */
export function issuesText(err: z.ZodError, under?: string): string {
  return err.issues
    .map((i) => {
      const where = [...(under ? [under] : []), ...i.path].join('.') || '(top level)';
      return i.code === 'unrecognized_keys'
        ? `${where}: ${i.message} (not supported)`
        : `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Parses `value` with `schema`; on a mismatch throws what `refuse` makes of the issues. */
export function parseWith<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  refuse: (issues: string) => Error,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw refuse(issuesText(parsed.error));
  return parsed.data as z.output<S>;
}
