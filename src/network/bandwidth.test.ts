import { bandwidthFromAnnotations, parseQuantity } from './bandwidth';

describe('bandwidth annotations', () => {
  test('quantities read as Kubernetes reads them, in decimal, binary and exponent forms', () => {
    expect(parseQuantity('10M')).toBe(10_000_000);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1.5k')).toBe(1500);
    expect(parseQuantity('2e6')).toBe(2_000_000);
    expect(parseQuantity('100')).toBe(100);
    expect(parseQuantity('fast')).toBeUndefined();
    expect(parseQuantity('10 M')).toBeUndefined();
  });

  test('a pod without the annotations gets no bandwidth config', () => {
    expect(bandwidthFromAnnotations({ other: 'x' })).toBeUndefined();
  });

  test('each annotation sets its rate with a burst that never limits', () => {
    expect(bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': '1M' })).toEqual({
      egressRate: 1_000_000,
      egressBurst: 0xffffffff,
    });
  });

  test('rates below 1k or above 1P bits per second are refused', () => {
    expect(() => bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '10' })).toThrow(
      /between 1k and 1P/,
    );
    expect(() => bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '2E' })).toThrow(
      /between 1k and 1P/,
    );
  });
});
