import { parseQualifiedName, requestedDevices } from './names';

describe('qualified CDI device names', () => {
  test.each([
    ['vendor.com/gpu=0', { vendor: 'vendor.com', class: 'gpu', name: '0' }],
    ['nvidia.com/gpu=GPU-1a:2b', { vendor: 'nvidia.com', class: 'gpu', name: 'GPU-1a:2b' }],
    ['example.com/net.fast=eth_1', { vendor: 'example.com', class: 'net.fast', name: 'eth_1' }],
  ])('%s is taken apart into vendor, class and name', (name, parts) => {
    expect(parseQualifiedName(name)).toEqual(parts);
  });

  test.each([
    ['vendor.com/gpu', /missing device name/],
    ['gpu=0', /not of the form vendor\/class/],
    ['/gpu=0', /not of the form vendor\/class/],
    ['vendor.com/=0', /not of the form vendor\/class/],
    ['1vendor.com/gpu=0', /should start with a letter/],
    ['vendor.com/gpu-=0', /should end with a letter or digit/],
    ['vendor.com/gpu=', /empty device name/],
    ['vendor.com/gpu=-0', /should start with a letter or digit/],
    ['vendor.com/gpu=a/b', /invalid character '\/'/],
    ['ven$dor.com/gpu=0', /invalid character '\$'/],
  ])('%s is not a qualified name', (name, reason) => {
    expect(parseQualifiedName(name)).toEqual({ error: expect.stringMatching(reason) });
  });
});

describe('the devices a container asks for', () => {
  test('the CRI list comes first, then the cdi.k8s.io annotations by key, each device once', () => {
    expect(
      requestedDevices([{ name: 'a.com/x=1' }, { name: 'a.com/x=2' }], {
        'cdi.k8s.io/z': 'b.com/y=1',
        'cdi.k8s.io/a': 'a.com/x=2,c.com/z=9',
        'other.io/a': 'd.com/w=1',
      }),
    ).toEqual(['a.com/x=1', 'a.com/x=2', 'c.com/z=9', 'b.com/y=1']);
  });

  test('a container that asks for none gets none', () => {
    expect(requestedDevices([], { 'io.kubernetes.foo': 'bar' })).toEqual([]);
  });
});
