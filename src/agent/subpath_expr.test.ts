import { ContainerConfigError } from './container_config_error';
import { settleSubPath } from './subpath_expr';

const env = new Map([
  ['POD_NAME', 'web-1'],
  ['ANNOTATION', 'mypath'],
  ['EMPTY', ''],
  ['UP', '..'],
  ['ABS', '/tmp'],
]);

test('subPathExpr expands $(VAR) from the container environment, and $$ is a dollar', () => {
  expect(settleSubPath({ subPathExpr: '$(ANNOTATION)/$(POD_NAME)' }, env)).toBe('mypath/web-1');
  expect(settleSubPath({ subPathExpr: 'logs/$$(POD_NAME)' }, env)).toBe('logs/$(POD_NAME)');
  expect(settleSubPath({ subPath: 'plain/$(POD_NAME)' }, env)).toBe('plain/$(POD_NAME)');
  expect(settleSubPath({}, env)).toBe('');
});

test('a variable that is unset or empty is a CreateContainerConfigError naming each', () => {
  const err = (() => {
    try {
      settleSubPath({ subPathExpr: '$(NOPE)/$(EMPTY)/$(POD_NAME)' }, env);
    } catch (e) {
      return e;
    }
  })();
  expect(err).toBeInstanceOf(ContainerConfigError);
  expect((err as ContainerConfigError).message).toBe('missing value for EMPTY, NOPE');
});

test('an expansion that is absolute or climbs with ".." is refused in the kubelet words', () => {
  expect(() => settleSubPath({ subPathExpr: '$(ABS)' }, env)).toThrow(
    'error SubPath `/tmp` must not be an absolute path',
  );
  expect(() => settleSubPath({ subPathExpr: '$(UP)' }, env)).toThrow(
    "unable to provision SubPath `..`: must not contain '..'",
  );
  expect(() => settleSubPath({ subPath: 'a/../../b' }, env)).toThrow(ContainerConfigError);
  // ".." inside a name is not a backstep.
  expect(settleSubPath({ subPath: 'a..b/c' }, env)).toBe('a..b/c');
});
