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
});
