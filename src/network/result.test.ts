import { parseResult, podIps } from './result';

describe('CNI results', () => {
  test('pod IPs are the sandbox interface addresses without prefix, IPv4 first', () => {
    const result = parseResult(
      {
        cniVersion: '1.0.0',
        interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/ns/x' }],
        ips: [
          { address: 'fd00::5/64', interface: 2 },
          { address: '10.88.0.1/16', interface: 0 },
          { address: '10.88.0.5/16', gateway: '10.88.0.1', interface: 2 },
        ],
      },
      'bridge',
    );
    expect(podIps(result)).toEqual(['10.88.0.5', 'fd00::5']);
  });

  test('0.2.0 results with ip4 and ip6 objects are understood', () => {
    const result = parseResult(
      { cniVersion: '0.2.0', ip4: { ip: '10.1.0.9/24', gateway: '10.1.0.1' } },
      'old',
    );
    expect(podIps(result)).toEqual(['10.1.0.9']);
  });

  test('a result that is not an object is refused with the plugin named', () => {
    expect(() => parseResult('ok', 'weird')).toThrow("Cannot read the result of CNI plugin 'weird'");
  });

  test('drops fields it does not read and treats an empty sandbox as the host side', () => {
    const result = parseResult(
      {
        cniVersion: '0.3.1',
        interfaces: [{ name: 'cni0', sandbox: '' }],
        ips: [{ version: '4', address: '10.88.0.5/16', interface: 0 }],
        dns: {},
      },
      'bridge',
    );
    expect(result).toEqual({
      cniVersion: '0.3.1',
      interfaces: [{ name: 'cni0' }],
      ips: [{ address: '10.88.0.5/16', interface: 0 }],
      routes: [],
      dns: {},
    });
  });

  test.each([
    ['an address that is a number', { ips: [{ address: 10 }] }, /ips\.0\.address: Expected string/],
    [
      'an interface index that is a string',
      { ips: [{ address: '10.0.0.2/8', interface: '0' }] },
      /ips\.0\.interface: Expected number/,
    ],
    ['interfaces that are not a list', { interfaces: { name: 'eth0' } }, /interfaces: Expected array/],
    [
      'an interface without a name',
      { interfaces: [{ sandbox: '/run/ns/x' }] },
      /interfaces\.0\.name: Required/,
    ],
    ['a route without its destination', { routes: [{ gw: '10.0.0.1' }] }, /routes\.0\.dst: Required/],
    ['an ip4 object without its ip', { ip4: { gateway: '10.0.0.1' } }, /ip4\.ip: Required/],
  ])('a result with %s is refused naming the field', (_what, raw, message) => {
    expect(() => parseResult({ cniVersion: '1.0.0', ...raw }, 'bridge')).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          new RegExp(`^Cannot read the result of CNI plugin 'bridge': ${message.source}`),
        ),
      }),
    );
  });
});
