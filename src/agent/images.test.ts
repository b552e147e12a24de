import { FakeCri } from './fake_cri.testutil';
import { authsFor, ensureImage, goDuration, ImagePullError, pullPolicyOf, registryOf } from './images';

test('the default pull policy is Always for latest or untagged images and IfNotPresent otherwise', () => {
  expect(pullPolicyOf({ name: 'c', image: 'busybox' })).toBe('Always');
  expect(pullPolicyOf({ name: 'c', image: 'busybox:latest' })).toBe('Always');
  expect(pullPolicyOf({ name: 'c', image: 'localhost:5000/busybox:1' })).toBe('IfNotPresent');
  expect(pullPolicyOf({ name: 'c', image: 'localhost:5000/busybox' })).toBe('Always');
  expect(pullPolicyOf({ name: 'c', image: 'busybox@sha256:abc' })).toBe('IfNotPresent');
  expect(pullPolicyOf({ name: 'c', image: 'busybox', imagePullPolicy: 'Never' })).toBe('Never');
});

test('IfNotPresent pulls only a missing image, Always pulls every time', async () => {
  const cri = new FakeCri();
  await ensureImage(cri, { name: 'c', image: 'a:1' }, {});
  expect(cri.countCalls('pullImage')).toBe(0);
  cri.missingImages.add('b:1');
  await ensureImage(cri, { name: 'c', image: 'b:1' }, {});
  expect(cri.countCalls('pullImage')).toBe(1);
  await ensureImage(cri, { name: 'c', image: 'a:1', imagePullPolicy: 'Always' }, {});
  expect(cri.countCalls('pullImage')).toBe(2);
});

test('a missing image under Never, or a failed pull, is an error with the kubelet reason', async () => {
  const cri = new FakeCri();
  cri.missingImages.add('x:1');
  await expect(
    ensureImage(cri, { name: 'c', image: 'x:1', imagePullPolicy: 'Never' }, {}),
  ).rejects.toMatchObject({
    reason: 'ErrImageNeverPull',
    message: 'Container image "x:1" is not present with pull policy of Never',
  });
  cri.failNext('pullImage', new Error('registry down'));
  const err = await ensureImage(cri, { name: 'c', image: 'x:1' }, {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ImagePullError);
  expect(err).toMatchObject({ reason: 'ErrImagePull' });
});

test('credentials are picked by the image registry, docker.io for short names', () => {
  const auths = [
    { server: 'https://index.docker.io/v1/', username: 'hub' },
    { server: 'registry.example.com', username: 'ex' },
  ];
  expect(registryOf('busybox:1')).toBe('docker.io');
  expect(registryOf('library/busybox')).toBe('docker.io');
  expect(registryOf('localhost:5000/x')).toBe('localhost:5000');
  expect(authsFor('busybox', auths).map((a) => a?.username)).toEqual(['hub']);
  expect(authsFor('registry.example.com/app:1', auths).map((a) => a?.username)).toEqual(['ex']);
  expect(authsFor('quay.io/app:1', auths)).toEqual([undefined]);
});

test('each matching credential is tried until one pulls', async () => {
  const cri = new FakeCri();
  cri.failNext('pullImage', new Error('unauthorized'));
  await ensureImage(cri, { name: 'c', image: 'registry.example.com/app:1', imagePullPolicy: 'Always' }, {}, [
    { server: 'registry.example.com', username: 'old' },
    { server: 'registry.example.com', username: 'new' },
  ]);
  const pulls = cri.calls
    .filter((c) => c.method === 'pullImage')
    .map((c) => c.arg as { auth?: { username: string } });
  expect(pulls.map((p) => p.auth?.username)).toEqual(['old', 'new']);
});

test('durations read as Go prints them in the Pulled event', () => {
  expect(goDuration(0)).toBe('0s');
  expect(goDuration(523)).toBe('523ms');
  expect(goDuration(1200)).toBe('1.2s');
  expect(goDuration(10_000)).toBe('10s');
  expect(goDuration(63_050)).toBe('1m3.05s');
  expect(goDuration(3_600_000)).toBe('1h0m0s');
});

test('the image manager tells what it did in the kubelet events', async () => {
  const cri = new FakeCri();
  const events: string[] = [];
  const sink = (type: string, reason: string, message: string) => events.push(`${type} ${reason} ${message}`);
  cri.missingImages.add('r/a:1');
  await ensureImage(cri, { name: 'c', image: 'r/a:1' }, {}, [], sink);
  await ensureImage(cri, { name: 'c', image: 'r/a:1' }, {}, [], sink);
  expect(events[0]).toBe('Normal Pulling Pulling image "r/a:1"');
  expect(events[1]).toMatch(
    /^Normal Pulled Successfully pulled image "r\/a:1" in \d+m?s \(\d+m?s including waiting\)\. Image size: 0 bytes\.$/,
  );
  expect(events[2]).toBe('Normal Pulled Container image "r/a:1" already present on machine');
  cri.missingImages.add('r/b:1');
  await expect(
    ensureImage(cri, { name: 'c', image: 'r/b:1', imagePullPolicy: 'Never' }, {}, [], sink),
  ).rejects.toThrow(ImagePullError);
  expect(events[3]).toBe(
    'Warning ErrImageNeverPull Container image "r/b:1" is not present with pull policy of Never',
  );
});
