import { formatReference, parseReference } from './reference';

describe('image references', () => {
  it('normalizes a bare name to docker.io/library with the latest tag', () => {
    expect(formatReference(parseReference('busybox'))).toBe('docker.io/library/busybox:latest');
  });

  it('keeps an explicit tag and an organisation on Docker Hub', () => {
    expect(formatReference(parseReference('kindest/node:v1.31.0'))).toBe('docker.io/kindest/node:v1.31.0');
  });

  it('treats a first component with a dot, a port or localhost as the registry', () => {
    expect(parseReference('registry.k8s.io/pause:3.9')).toMatchObject({
      domain: 'registry.k8s.io',
      path: 'pause',
      tag: '3.9',
    });
    expect(parseReference('127.0.0.1:5000/a/b')).toMatchObject({
      domain: '127.0.0.1:5000',
      path: 'a/b',
      tag: 'latest',
    });
    expect(parseReference('localhost/x')).toMatchObject({ domain: 'localhost', path: 'x' });
  });

  it('keeps a digest and adds no tag to a digest-only reference', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const ref = parseReference(`busybox@${digest}`);
    expect(ref).toMatchObject({ path: 'library/busybox', digest, tag: undefined });
    expect(formatReference(ref)).toBe(`docker.io/library/busybox@${digest}`);
  });

  it('maps index.docker.io to docker.io', () => {
    expect(parseReference('index.docker.io/library/alpine:3').domain).toBe('docker.io');
  });

  it.each([
    ['', 'empty'],
    ['Busybox', 'not a valid repository name'],
    ['busybox:', 'not a valid tag'],
    ['busybox@sha256:abc', 'not a sha256'],
    ['a//b', 'not a valid repository name'],
    ['busybox:bad tag', 'not a valid tag'],
  ])('refuses %j with a clear INVALID_ARGUMENT', (input, why) => {
    expect(() => parseReference(input)).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringContaining(why) }),
    );
  });
});
