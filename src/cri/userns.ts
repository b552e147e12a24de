// The CRI's userns_options: NODE (or absent) keeps the host's user namespace; POD gives the pod a
// user namespace of its own with the one uid and one gid mapping the kubelet chose (container id
// 0, a 65536-aligned host range of 65536 ids). CONTAINER and TARGET are refused, as containerd
// refuses them. Every container of the pod joins the pod's; a mount that carries mappings (the
// kubelet puts the pod's on every volume) becomes an idmapped mount.
import type { IDMapping__Output } from '../gen/runtime/v1/IDMapping';
import type { UserNamespace__Output } from '../gen/runtime/v1/UserNamespace';
import { invalidArgument, unimplemented } from '../common/errors';
import type { IdMapping } from '../runtime';

export interface PodUserNamespace {
  uids: IdMapping[];
  gids: IdMapping[];
}

const ID_LIMIT = 2 ** 32;

/** The pod's user namespace mappings, or undefined for the host's; refuses what cannot be made. */
export function podUserNamespaceOf(
  options: UserNamespace__Output | null | undefined,
): PodUserNamespace | undefined {
  const what = 'Cannot run the pod sandbox';
  if (!options || options.mode === 'NODE') return undefined;
  if (options.mode === 'CONTAINER') {
    throw unimplemented(`${what}: user namespace mode CONTAINER is not supported (POD and NODE are)`);
  }
  if (options.mode !== 'POD') {
    throw invalidArgument(`${what}: user namespace mode ${options.mode} is not supported (POD and NODE are)`);
  }
  return { uids: mappingOf(options.uids, 'uid', what), gids: mappingOf(options.gids, 'gid', what) };
}

function mappingOf(mappings: IDMapping__Output[], kind: string, what: string): IdMapping[] {
  if (mappings.length !== 1) {
    throw invalidArgument(
      `${what}: user namespace mode POD takes exactly one ${kind} mapping, got ${mappings.length}`,
    );
  }
  const [m] = mappings as [IDMapping__Output];
  if (m.container_id !== 0) {
    throw invalidArgument(`${what}: the ${kind} mapping must start at container id 0, not ${m.container_id}`);
  }
  if (m.length === 0) throw invalidArgument(`${what}: the ${kind} mapping has length 0`);
  if (m.host_id === 0) {
    throw invalidArgument(`${what}: the ${kind} mapping maps the pod's root to the host's root (host id 0)`);
  }
  if (m.host_id + m.length > ID_LIMIT) {
    throw invalidArgument(`${what}: the ${kind} mapping ${m.host_id}+${m.length} goes past the last id`);
  }
  return [{ containerID: m.container_id, hostID: m.host_id, size: m.length }];
}

/** Whether a CRI mapping list is the pod's (the only one an idmapped mount here can use). */
export function sameMappings(cri: IDMapping__Output[], pod: IdMapping[]): boolean {
  return (
    cri.length === pod.length &&
    cri.every((m, i) => {
      const p = pod[i] as IdMapping;
      return m.container_id === p.containerID && m.host_id === p.hostID && m.length === p.size;
    })
  );
}
