// RunPodSandbox: a pod is a set of pinned namespaces (no pause process unless the pod shares one
// PID namespace), a /dev/shm, its files, its cgroup parent and its network. Every step registers
// its undo, so a failure leaves nothing behind and a retry starts clean.
import fs from 'node:fs';
import path from 'node:path';
import type { RunPodSandboxRequest__Output } from '../gen/runtime/v1/RunPodSandboxRequest';
import type { RunPodSandboxResponse } from '../gen/runtime/v1/RunPodSandboxResponse';
import { withCleanup } from '../common/cleanup';
import { crashPoint } from '../common/crash_point';
import { invalidArgument } from '../common/errors';
import { nowNs } from '../common/time';
import type { NamespaceType } from '../runtime';
import { MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../runtime/sys';
import { validateSysctls } from '../runtime/security';
import { podCgroupPath } from '../runtime/cgroups';
import { sandboxDir, sandboxRunDir, type CriContext } from './context';
import { newId } from './ids';
import { addPodAddresses, writeSandboxFiles } from './sandbox_files';
import { SANDBOX_RECORD_VERSION, type SandboxRecord } from './store';
import type { CallContext } from './rpc';
import { podUserNamespaceOf } from './userns';

/** Pod stats: its cgroup, and network counters read through any of its running containers. */
export function trackPod(ctx: CriContext, pod: SandboxRecord): void {
  ctx.stats.track(pod.id, {
    cgroup: pod.cgroupParent,
    netPid: () =>
      pod.hostNetwork
        ? undefined
        : ctx.containers.list().find((c) => c.sandboxId === pod.id && c.startedAt && !c.finishedAt)?.pid,
  });
}

function sandboxName(meta: { name: string; namespace: string; uid: string; attempt: number }): string {
  return [meta.name, meta.namespace, meta.uid, meta.attempt].join('_');
}

export async function runPodSandbox(
  ctx: CriContext,
  req: RunPodSandboxRequest__Output,
  call: CallContext,
): Promise<RunPodSandboxResponse> {
  const config = req.config;
  const meta = config?.metadata;
  if (!config || !meta || !meta.name || !meta.namespace || !meta.uid) {
    throw invalidArgument('Cannot run the pod sandbox: config.metadata needs name, namespace and uid');
  }
  // "" is the default handler; "nodelet" is the same one, named for a RuntimeClass.
  if (req.runtime_handler && req.runtime_handler !== 'nodelet') {
    throw invalidArgument(`Cannot run the pod sandbox: unknown runtime handler '${req.runtime_handler}'`);
  }
  const nsOptions = config.linux?.security_context?.namespace_options;
  const hostNetwork = nsOptions?.network === 'NODE';
  const hostIpc = nsOptions?.ipc === 'NODE';
  const userns = podUserNamespaceOf(nsOptions?.userns_options);
  // In a pod with a user namespace every container shares the pod's PID namespace (catatonit its
  // PID 1), whatever the mode: see src/runtime/namespaces/userns.ts for why.
  const pidMode =
    nsOptions?.pid === 'NODE' ? 'node' : nsOptions?.pid === 'POD' || userns ? 'pod' : 'container';
  if (userns && (hostNetwork || hostIpc || pidMode === 'node')) {
    // Namespaces the pod's user namespace would not own: it could mount neither sysfs (network),
    // mqueue (IPC) nor proc (PID) there.
    const which = hostNetwork
      ? 'the host network'
      : hostIpc
        ? 'the host IPC namespace'
        : 'the host PID namespace';
    throw invalidArgument(`Cannot run the pod sandbox: a user namespace with ${which} is not supported`);
  }
  // Sysctls the pod may not set in its own namespaces are refused before anything is made.
  validateSysctls(config.linux?.sysctls ?? {}, { hostNetwork, hostIpc });

  const id = newId();
  const name = sandboxName(meta);
  ctx.names.reserve(name, id);
  return withCleanup(ctx.log, async (cleanup) => {
    cleanup.defer('release the pod name', () => ctx.names.release(name));

    const dir = sandboxDir(ctx, id);
    const runDir = sandboxRunDir(ctx, id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
    fs.mkdirSync(runDir, { recursive: true, mode: 0o711 });
    cleanup.defer('remove the sandbox dirs', () => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(runDir, { recursive: true, force: true });
    });

    const types: NamespaceType[] = [];
    if (!hostNetwork) types.push('network', 'uts');
    if (!hostIpc) types.push('ipc');
    const namespaces: Record<string, string> = {};
    cleanup.defer('unpin the namespaces', () => ctx.host.unpinNamespaces(ctx.runDir, id));
    Object.assign(
      namespaces,
      userns
        ? await ctx.host.pinPodUserNamespace(ctx.runDir, id, types, userns)
        : ctx.host.pinNamespaces(ctx.runDir, id, types),
    );
    let pidInit: number | undefined;
    if (pidMode === 'pod') {
      const init = await ctx.host.startPidNamespaceInit(ctx.runDir, id, namespaces.user);
      init.child.unref();
      cleanup.defer('stop the pod PID init', () => init.child.kill('SIGKILL'));
      namespaces.pid = init.path;
      pidInit = init.pid;
    }
    crashPoint('run-pod-sandbox/after-namespaces');

    let shmPath: string | undefined;
    if (!hostIpc) {
      shmPath = path.join(runDir, 'shm');
      fs.mkdirSync(shmPath, { recursive: true });
      ctx.host.mount('shm', shmPath, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=1777,size=65536k');
      cleanup.defer('unmount the pod /dev/shm', () => ctx.host.umount(shmPath as string, MNT_DETACH));
    }

    // As containerd: the pod's hostname, else the node's (a pod name can pass the kernel's 64 bytes).
    const hostname = hostNetwork ? ctx.host.hostname() : config.hostname || ctx.host.hostname();
    writeSandboxFiles(dir, { hostname, hostNetwork, dns: config.dns_config });

    const podCgroup = podCgroupPath(config.linux?.cgroup_parent || undefined, id, ctx.defaultCgroupParent);
    let ips: string[] = [];
    if (!hostNetwork) {
      call.signal.throwIfAborted();
      const net = await ctx.network.setUp({
        podId: id,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        netnsPath: namespaces.network,
        portMappings: config.port_mappings.map((p) => ({
          protocol: p.protocol,
          containerPort: p.container_port,
          hostPort: p.host_port,
          hostIp: p.host_ip || undefined,
        })),
        annotations: config.annotations,
      });
      cleanup.defer('tear the pod network down', () => ctx.network.tearDown(id, namespaces.network));
      ips = net.ips;
      addPodAddresses(dir, hostname, ips);
    }
    crashPoint('run-pod-sandbox/after-cni-add');

    const record: SandboxRecord = {
      version: SANDBOX_RECORD_VERSION,
      id,
      name,
      config,
      runtimeHandler: req.runtime_handler,
      createdAt: nowNs().toString(),
      dir,
      hostNetwork,
      hostIpc,
      pidMode,
      namespaces,
      userns,
      pidInit,
      shmPath,
      cgroupParent: podCgroup.path,
      ownsCgroup: podCgroup.owned,
      ips,
    };
    await ctx.sandboxes.create(record);
    crashPoint('run-pod-sandbox/after-record');
    trackPod(ctx, record);
    ctx.log.info({ pod: id, name }, 'pod sandbox ready');
    return { pod_sandbox_id: id };
  });
}
