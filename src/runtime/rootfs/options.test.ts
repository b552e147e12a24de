import { MS_BIND, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_SLAVE } from '../sys/mount';
import { parseMountOptions, rootPropagationFlags } from './options';

describe('parseMountOptions', () => {
  test('flags become mount flags and the rest becomes filesystem data', () => {
    const parsed = parseMountOptions(['nosuid', 'nodev', 'mode=755', 'size=65536k']);
    expect(parsed.flags).toBe(MS_NOSUID | MS_NODEV);
    expect(parsed.data).toBe('mode=755,size=65536k');
  });

  test('a later option clears what an earlier one set', () => {
    expect(parseMountOptions(['ro', 'rw']).flags & MS_RDONLY).toBe(0);
  });

  test('rbind is a recursive bind and propagation options are kept apart, in order', () => {
    const parsed = parseMountOptions(['rbind', 'rprivate', 'slave']);
    expect(parsed.flags).toBe(MS_BIND | MS_REC);
    expect(parsed.propagation).toEqual([MS_PRIVATE | MS_REC, MS_SLAVE]);
  });

  test('rro asks for recursive read-only without setting MS_RDONLY', () => {
    const parsed = parseMountOptions(['rbind', 'rro']);
    expect(parsed.recursiveReadonly).toBe(true);
    expect(parsed.flags & MS_RDONLY).toBe(0);
  });
});

describe('rootPropagationFlags', () => {
  test('an unset propagation leaves the root as it is', () => {
    expect(rootPropagationFlags(undefined)).toBeUndefined();
  });

  test('an unknown propagation is refused with the accepted values', () => {
    expect(() => rootPropagationFlags('sideways')).toThrow(
      /Cannot use root propagation 'sideways': expected one of/,
    );
  });
});
