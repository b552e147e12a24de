import { parseLogRotationPolicy, planRotation, rotatedLogName } from './policy';

const L = '/logs/c/0.log';

describe('the container log rotation policy', () => {
  test('a rotated log is named by the local time to the second, as the kubelet names it', () => {
    expect(rotatedLogName(L, new Date(2026, 0, 2, 3, 4, 5))).toBe(`${L}.20260102-030405`);
  });

  test('maxFiles-2 rotated files stay: the oldest beyond go, the plain ones kept are compressed', () => {
    const rotated = [`${L}.20260101-000003`, `${L}.20260101-000001.gz`, `${L}.20260101-000002.gz`];
    // 4 files: the new live log, the one rotated now, and two more.
    expect(planRotation(rotated, 4)).toEqual({
      unused: [],
      excess: [`${L}.20260101-000001.gz`],
      compress: [`${L}.20260101-000003`],
    });
  });

  test('with maxFiles 2 every older rotated file goes', () => {
    const rotated = [`${L}.20260101-000001.gz`, `${L}.20260101-000002`];
    expect(planRotation(rotated, 2)).toEqual({ unused: [], excess: rotated, compress: [] });
  });

  test('what an interrupted round left (a temporary file, a plain file already compressed) is unused', () => {
    const rotated = [
      `${L}.20260101-000001.tmp`,
      `${L}.20260101-000002`,
      `${L}.20260101-000002.gz`,
      `${L}.20260101-000003`,
    ];
    expect(planRotation(rotated, 5)).toEqual({
      unused: [`${L}.20260101-000001.tmp`, `${L}.20260101-000002`],
      excess: [],
      compress: [`${L}.20260101-000003`],
    });
  });

  test('the flags default to 10Mi and 5 files; sizes are quantities; fewer than 2 files is refused', () => {
    expect(parseLogRotationPolicy(undefined, undefined)).toEqual({ maxSizeBytes: 10485760, maxFiles: 5 });
    expect(parseLogRotationPolicy('1Ki', '2')).toEqual({ maxSizeBytes: 1024, maxFiles: 2 });
    expect(parseLogRotationPolicy('-1', undefined).maxSizeBytes).toBe(-1);
    expect(() => parseLogRotationPolicy(undefined, '1')).toThrow(/max files '1'.*greater than 1/);
    expect(() => parseLogRotationPolicy('ten', undefined)).toThrow(/max size 'ten'/);
  });
});
