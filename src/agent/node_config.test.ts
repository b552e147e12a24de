import { configFlagValues, parseGoDuration } from './node_config';

const head = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

describe('KubeletConfiguration keys', () => {
  test('supported keys become the flags they stand for, nested ones by their path', () => {
    const values = configFlagValues(
      head +
        [
          'maxPods: 50',
          'clusterDNS: [10.0.0.10]',
          'clusterDomain: cluster.local',
          'allowedUnsafeSysctls: [net.core.somaxconn, kernel.msg*]',
          'syncFrequency: 1m30s',
          'shutdownGracePeriod: 30s',
          'registerWithTaints: [{key: dedicated, value: gpu, effect: NoSchedule}, {key: spot, effect: NoExecute}]',
          'authentication: {x509: {clientCAFile: /etc/ca.crt}, anonymous: {enabled: false}}',
          'serverTLSBootstrap: true',
        ].join('\n'),
    );
    expect(values).toEqual({
      'max-pods': '50',
      'cluster-dns': ['10.0.0.10'],
      'cluster-domain': 'cluster.local',
      'allowed-unsafe-sysctls': 'net.core.somaxconn,kernel.msg*',
      'sync-frequency': '90000ms',
      'shutdown-grace-period': '30000ms',
      'register-with-taints': 'dedicated=gpu:NoSchedule,spot:NoExecute',
      'client-ca-file': '/etc/ca.crt',
      'anonymous-auth': 'false',
      'rotate-server-certificates': 'true',
    });
  });

  test('the node cgroup keys become their flags, the reservation maps name=value lists', () => {
    const values = configFlagValues(
      head +
        [
          'enforceNodeAllocatable: [pods]',
          'podPidsLimit: 1024',
          'systemReserved: {cpu: 500m, memory: 1Gi}',
          'kubeReserved: {memory: 256Mi}',
        ].join('\n'),
    );
    expect(values).toEqual({
      'enforce-node-allocatable': 'pods',
      'pod-max-pids': '1024',
      'system-reserved': 'cpu=500m,memory=1Gi',
      'kube-reserved': 'memory=256Mi',
    });
    expect(() => configFlagValues(head + 'systemReserved: {memory: 1}\n')).toThrow(
      'Cannot use systemReserved: {"memory":1} is not a map of names to quantities',
    );
  });

  test('every key the agent does not support is refused by name', () => {
    expect(() =>
      configFlagValues(head + 'cgroupsPerQOS: true\nauthentication: {webhook: {cacheTTL: 2m}}\n'),
    ).toThrow("does not support 'cgroupsPerQOS', 'authentication.webhook.cacheTTL'");
  });

  test('a value of the wrong type is refused with its key', () => {
    expect(() => configFlagValues(head + 'maxPods: lots\n')).toThrow(
      'Cannot use maxPods: "lots" is not an integer',
    );
    expect(() => configFlagValues(head + 'syncFrequency: soon\n')).toThrow('Cannot use syncFrequency');
  });

  test('another kind or version is refused', () => {
    expect(() => configFlagValues('apiVersion: v1\nkind: ConfigMap\n')).toThrow(
      'expected kind KubeletConfiguration',
    );
  });

  test('Go durations are read as Go writes them', () => {
    expect(parseGoDuration('0s')).toBe(0);
    expect(parseGoDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('5x')).toBeUndefined();
  });
});
