import { isKubeletLabel, parseNodeLabels, parseTaints } from './node_registration';

describe('node labels and taints', () => {
  test('labels a kubelet may set on its own Node are taken', () => {
    expect(parseNodeLabels('team=a,node.kubernetes.io/pool=blue,topology.kubernetes.io/zone=z1')).toEqual({
      team: 'a',
      'node.kubernetes.io/pool': 'blue',
      'topology.kubernetes.io/zone': 'z1',
    });
    expect(isKubeletLabel('kubelet.kubernetes.io/x')).toBe(true);
  });

  test('other kubernetes.io labels are refused by name, as NodeRestriction would', () => {
    expect(() => parseNodeLabels('node-role.kubernetes.io/control-plane=,a=b')).toThrow(
      "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [node-role.kubernetes.io/control-plane]",
    );
    expect(() => parseNodeLabels('node-restriction.kubernetes.io/x=y')).toThrow(
      'node-restriction.kubernetes.io/x',
    );
  });

  test('a malformed label is refused', () => {
    expect(() => parseNodeLabels('novalue')).toThrow("'novalue' is not key=value");
    expect(() => parseNodeLabels('a=b c')).toThrow('not a valid label value');
  });

  test('taints are read as key=value:Effect or key:Effect', () => {
    expect(parseTaints('dedicated=gpu:NoSchedule,spot:NoExecute')).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'NoExecute' },
    ]);
    expect(() => parseTaints('a=b:Sometimes')).toThrow('needs an effect');
  });
});
