// UpdatePodSandboxResources: the kubelet tells the pod's new totals after an in-place resize. When
// the kubelet gave a cgroup_parent, the pod cgroup is the kubelet's own and it has already set it:
// the runtime records what it was told (containerd forwards it to NRI and answers OK). When nodelet
// made the pod cgroup itself, the limits go there too: the containers' sum plus the pod overhead.
import type { LinuxContainerResources__Output } from '../gen/runtime/v1/LinuxContainerResources';
import type { UpdatePodSandboxResourcesRequest__Output } from '../gen/runtime/v1/UpdatePodSandboxResourcesRequest';
import { failedPrecondition } from '../common/errors';
import { toLinuxResources } from '../runtime/cgroups';
import type { CriContext } from './context';
import { sandboxState } from './store';

type Resources = LinuxContainerResources__Output;

/** Adds two non-negative CRI int64 strings where both say "limited"; 0 (unlimited) wins. */
function sumLimit(a: string | undefined, b: string | undefined): string {
  const x = BigInt(a || '0');
  const y = BigInt(b || '0');
  if (x <= 0n) return '0';
  return (x + (y > 0n ? y : 0n)).toString();
}

/** The pod cgroup's cpu and memory from the containers' totals and the pod overhead. */
export function podCgroupResources(
  resources: Resources | null,
  overhead: Resources | null,
): Partial<Resources> {
  const r = resources ?? ({} as Partial<Resources>);
  const o = overhead ?? ({} as Partial<Resources>);
  const shares = BigInt(r.cpu_shares || '0') + BigInt(o.cpu_shares || '0');
  return {
    cpu_shares: shares.toString(),
    cpu_period: r.cpu_period || o.cpu_period || '0',
    cpu_quota: sumLimit(r.cpu_quota, o.cpu_quota),
    memory_limit_in_bytes: sumLimit(r.memory_limit_in_bytes, o.memory_limit_in_bytes),
  };
}

export async function updatePodSandboxResources(
  ctx: CriContext,
  req: UpdatePodSandboxResourcesRequest__Output,
): Promise<void> {
  const pod = ctx.sandboxes.get(req.pod_sandbox_id);
  if (sandboxState(pod) !== 'SANDBOX_READY') {
    throw failedPrecondition(`Cannot update the resources of pod sandbox '${pod.id}': it is not ready`);
  }
  if (pod.ownsCgroup && req.resources && ctx.cgroups.exists(pod.cgroupParent)) {
    const wanted = podCgroupResources(req.resources, req.overhead);
    ctx.cgroups.update(pod.cgroupParent, toLinuxResources(wanted as Resources));
  }
  await ctx.sandboxes.update(pod.id, (r) => ({
    ...r,
    resources: req.resources ?? undefined,
    overhead: req.overhead ?? undefined,
  }));
}
