import { ContainerConfigError } from './container_config_error';
import type { Container, Pod } from './pod_spec';
import { needsImageUser, verifyRunAsNonRoot } from './run_as_non_root';

const pod = (podSc: Pod['spec']['securityContext'], sc: Container['securityContext'] = undefined): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { securityContext: podSc, containers: [{ name: 'main', image: 'i', securityContext: sc }] },
});
const check = (p: Pod, image: Parameters<typeof verifyRunAsNonRoot>[2]) => () =>
  verifyRunAsNonRoot(p, p.spec.containers[0], image);
const where = '(pod: "web_default(u1)", container: main)';

test('an image that runs as uid 0, or names no user, is refused under runAsNonRoot', () => {
  const p = pod({ runAsNonRoot: true });
  expect(needsImageUser(p, p.spec.containers[0])).toBe(true);
  expect(check(p, { uid: { value: '0' }, username: '' })).toThrow(
    `container has runAsNonRoot and image will run as root ${where}`,
  );
  expect(check(p, { username: '' })).toThrow(
    `container has runAsNonRoot and image will run as root ${where}`,
  );
  expect(check(p, { uid: { value: '0' } })).toThrow(ContainerConfigError);
});

test('an image user given by name cannot be verified and is refused', () => {
  expect(check(pod({}, { runAsNonRoot: true }), { username: 'www-data' })).toThrow(
    `container has runAsNonRoot and image has non-numeric user (www-data), cannot verify user is non-root ${where}`,
  );
});

test('a numeric non-root image user passes; so does any image when runAsNonRoot is off', () => {
  expect(check(pod({ runAsNonRoot: true }), { uid: { value: '1002' } })).not.toThrow();
  expect(check(pod({}), { uid: { value: '0' } })).not.toThrow();
  // the container's field wins over the pod's
  expect(check(pod({ runAsNonRoot: true }, { runAsNonRoot: false }), { uid: { value: '0' } })).not.toThrow();
});

test('runAsUser in the security context decides before the image: 0 breaks the policy, others pass', () => {
  const p = pod({ runAsNonRoot: true, runAsUser: 1000 });
  expect(needsImageUser(p, p.spec.containers[0])).toBe(false);
  expect(check(p, { uid: { value: '0' } })).not.toThrow();
  expect(check(pod({ runAsNonRoot: true }, { runAsUser: 0 }), { uid: { value: '1' } })).toThrow(
    `container's runAsUser breaks non-root policy ${where}`,
  );
});
