// Version, Status and RuntimeConfig: what the kubelet, crictl and critest ask on every connection.
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService';
import type { RuntimeCondition } from '../gen/runtime/v1/RuntimeCondition';
import type { ServiceImpl } from './rpc';

const RUNTIME_NAME = 'nodelet';
const CRI_API_VERSION = 'v1';

export interface ConditionSource {
  /** NetworkReady, told truthfully by whoever owns pod networking. */
  networkCondition(): RuntimeCondition;
}

export interface RuntimeInfoOptions {
  runtimeVersion: string;
  network: ConditionSource;
  /** What Status(verbose) reports under info["config"]; critest reads stateDir from it. */
  configInfo: Record<string, unknown>;
  features: { supplementalGroupsPolicy: boolean; recursiveReadOnlyMounts: boolean; userNamespaces: boolean };
}

export function runtimeInfoService(options: RuntimeInfoOptions): ServiceImpl<RuntimeServiceHandlers> {
  return {
    Version: async () => ({
      version: '0.1.0',
      runtime_name: RUNTIME_NAME,
      runtime_version: options.runtimeVersion,
      runtime_api_version: CRI_API_VERSION,
    }),

    Status: async (req) => {
      const conditions: RuntimeCondition[] = [
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        options.network.networkCondition(),
      ];
      const info: Record<string, string> = req.verbose ? { config: JSON.stringify(options.configInfo) } : {};
      return {
        status: { conditions },
        info,
        // critest looks its --runtime-handler (default "") up in this list.
        runtime_handlers: ['', 'nodelet'].map((name) => ({
          name,
          features: {
            recursive_read_only_mounts: options.features.recursiveReadOnlyMounts,
            user_namespaces: options.features.userNamespaces,
          },
        })),
        features: {
          supplemental_groups_policy: options.features.supplementalGroupsPolicy,
          user_namespaces_host_network: false,
        },
      };
    },

    // nodelet manages cgroups through cgroupfs; there is no systemd on these nodes.
    RuntimeConfig: async () => ({ linux: { cgroup_driver: 'CGROUPFS' } }),
  };
}
