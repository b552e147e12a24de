import { goDuration, kubeletConfigz, type AgentSettings } from './configz';
import { kubeletApiConfig } from './flags';

const settings: AgentSettings = {
  staticPodPath: '/etc/kubernetes/manifests',
  fileCheckFrequencyMs: 20_000,
  containerRuntimeEndpoint: 'unix:///run/nodelet/nodelet.sock',
  cgroupDriver: 'cgroupfs',
  cgroupRoot: '/',
  podLogsDir: '/var/log/pods',
  imageGc: { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000 },
};
const files = { certFile: '/var/lib/a/pki/kubelet.crt', keyFile: '/var/lib/a/pki/kubelet.key' };

test('durations read as Go prints them', () => {
  expect(goDuration(20_000)).toBe('20s');
  expect(goDuration(120_000)).toBe('2m0s');
  expect(goDuration(90_500)).toBe('1m30.5s');
  expect(goDuration(3_600_000)).toBe('1h0m0s');
  expect(goDuration(500)).toBe('500ms');
  expect(goDuration(0)).toBe('0s');
});

test('a standalone agent shows its settings under the KubeletConfiguration names', () => {
  const api = kubeletApiConfig(
    { port: '10250', 'client-ca-file': '/etc/ca.crt' },
    { rootDir: '/var/lib/a' },
  )!;
  expect(kubeletConfigz(settings, api, files)).toEqual({
    kubeletconfig: {
      kind: 'KubeletConfiguration',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      enableServer: true,
      staticPodPath: '/etc/kubernetes/manifests',
      fileCheckFrequency: '20s',
      address: '0.0.0.0',
      port: 10250,
      readOnlyPort: 0,
      healthzPort: 0,
      tlsCertFile: '/var/lib/a/pki/kubelet.crt',
      tlsPrivateKeyFile: '/var/lib/a/pki/kubelet.key',
      authentication: {
        x509: { clientCAFile: '/etc/ca.crt' },
        webhook: { enabled: false, cacheTTL: '2m0s' },
        anonymous: { enabled: false },
      },
      authorization: { mode: 'AlwaysAllow' },
      containerRuntimeEndpoint: 'unix:///run/nodelet/nodelet.sock',
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/',
      podLogsDir: '/var/log/pods',
      imageMinimumGCAge: '2m0s',
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
    },
  });
});

test('a connected agent without static pods shows its pod capacity and the webhook caches, and no static pod path', () => {
  const api = kubeletApiConfig({}, { rootDir: '/r', kubeconfig: '/etc/node-kubeconfig' })!;
  const { kubeletconfig } = kubeletConfigz(
    { ...settings, staticPodPath: undefined, maxPods: 110, syncFrequencyMs: 60_000 },
    api,
    files,
  );
  expect(kubeletconfig).toMatchObject({
    maxPods: 110,
    syncFrequency: '1m0s',
    authentication: { webhook: { enabled: true } },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' } },
  });
  expect(kubeletconfig).not.toHaveProperty('staticPodPath');
  expect(kubeletconfig).not.toHaveProperty('fileCheckFrequency');
  // Flags the kubelet has no configuration field for stay out, the kubeconfig among them.
  expect(JSON.stringify(kubeletconfig)).not.toContain('node-kubeconfig');
});

test('the DNS settings show under clusterDNS, clusterDomain and resolvConf', () => {
  const api = kubeletApiConfig({}, { rootDir: '/var/lib/a' })!;
  const dns = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', resolvConf: '/etc/resolv.conf' };
  expect(kubeletConfigz({ ...settings, dns }, api, files).kubeletconfig).toMatchObject(dns);
  const none = { clusterDNS: [], clusterDomain: '', resolvConf: '' };
  const shown = kubeletConfigz({ ...settings, dns: none }, api, files).kubeletconfig;
  expect(shown).not.toHaveProperty('clusterDNS');
  expect(shown).toMatchObject({ resolvConf: '' });
});
