// The KubeletConfiguration for a test kubelet on nodelet: everything in temp dirs, its cgroups under
// a test-only root, its servers on loopback ports, no swap check, eviction and image GC that never
// fire on a small shared machine. The cgroup driver is left out on purpose: the kubelet learns it
// from nodelet's RuntimeConfig (KubeletCgroupDriverFromCRI, GA in 1.34).
export interface KubeletConfigInputs {
  endpoint: string;
  staticPodPath: string;
  podLogsDir: string;
  cgroupRoot: string;
  /** Where the kubelet API listens: loopback standalone, the node IP when an apiserver must reach it. */
  address: string;
  port: number;
  healthzPort: number;
  /** The CA that signs the apiserver's kubelet-client certificate; none = anonymous, standalone. */
  clientCaFile?: string;
}

export function kubeletConfig(inputs: KubeletConfigInputs): Record<string, unknown> {
  const authentication = inputs.clientCaFile
    ? {
        anonymous: { enabled: false },
        webhook: { enabled: false },
        x509: { clientCAFile: inputs.clientCaFile },
      }
    : { anonymous: { enabled: true }, webhook: { enabled: false } };
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: inputs.endpoint,
    imageServiceEndpoint: inputs.endpoint,
    staticPodPath: inputs.staticPodPath,
    fileCheckFrequency: '2s',
    syncFrequency: '10s',
    podLogsDir: inputs.podLogsDir,
    cgroupRoot: inputs.cgroupRoot,
    cgroupsPerQOS: true,
    // The test machines run cgroup v1; the kubelet refuses v1 from 1.35 unless told otherwise.
    failCgroupV1: false,
    failSwapOn: false,
    address: inputs.address,
    port: inputs.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: inputs.healthzPort,
    authentication,
    // Standalone there is no apiserver to ask; connected, the client certificate is the check.
    authorization: { mode: 'AlwaysAllow' },
    evictionHard: {
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    // No kube-proxy and no iptables on a test node.
    makeIPTablesUtilChains: false,
    // Restarts within a test's patience: back-off still doubles from 10 s, capped at 40 s.
    crashLoopBackOff: { maxContainerRestartPeriod: '40s' },
    nodeStatusReportFrequency: '10s',
  };
}
