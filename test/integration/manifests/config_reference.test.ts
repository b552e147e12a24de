// docs/configuration.md is generated from the schema (`nodelet config reference`), so an operator
// reads there exactly what each key's .describe() says: a key without one is a blank row.
import { z } from 'zod';
import { daemonConfigSchema } from '../../../src/config';

function undescribed(shape: Record<string, z.ZodTypeAny>, prefix = ''): string[] {
  return Object.entries(shape).flatMap(([key, field]) => {
    const missing = field.description ? [] : [`${prefix}${key}`];
    let inner: z.ZodTypeAny = field;
    while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner._def.innerType;
    return inner instanceof z.ZodObject
      ? [...missing, ...undescribed(inner.shape as Record<string, z.ZodTypeAny>, `${prefix}${key}.`)]
      : missing;
  });
}

test('every key of the daemon configuration, nested ones too, has a description for the reference', () => {
  const shape = daemonConfigSchema.shape as Record<string, z.ZodTypeAny>;
  expect(Object.keys(shape).length).toBeGreaterThan(5);
  expect(undescribed(shape)).toEqual([]);
});
