// What belongs to no record, decided from the records and what the host shows; no side effects, so
// every rule is tested without root. The rules are deliberately narrow: only names nodelet makes
// (64-hex ids) in places nodelet owns are ever candidates, and an id any record names is never one.
import path from 'node:path';

/** Pod and container ids are 64 hex characters (ids.ts): nothing else is ever swept by name. */
export const NODELET_ID = /^[0-9a-f]{64}$/;

export interface KnownIds {
  pods: Set<string>;
  containers: Set<string>;
}

export interface RecordsSeen {
  pods: { id: string }[];
  containers: { id: string; sandboxId: string }[];
  /** File names of records that could not be read ("<id>.json"): whose they are is unknown, so they are kept. */
  brokenPods?: string[];
  brokenContainers?: string[];
}

/**
 * The ids the records name. A container's pod counts even when the pod's own record is missing:
 * a record still references it. An unreadable record keeps its id too.
 */
export function knownIds(records: RecordsSeen): KnownIds {
  const idOf = (file: string) => path.basename(file, '.json');
  return {
    pods: new Set([
      ...records.pods.map((p) => p.id),
      ...records.containers.map((c) => c.sandboxId),
      ...(records.brokenPods ?? []).map(idOf),
    ]),
    containers: new Set([
      ...records.containers.map((c) => c.id),
      ...(records.brokenContainers ?? []).map(idOf),
    ]),
  };
}

/** Names that nodelet would have made (ids) and that no record knows. */
export function unknownIds(names: Iterable<string>, known: Set<string>): string[] {
  return [...new Set(names)].filter((n) => NODELET_ID.test(n) && !known.has(n)).sort();
}

export interface StateDirs {
  stateDir: string;
  runDir: string;
}

export interface MountOwner {
  kind: 'pod' | 'container';
  id: string;
}

/**
 * Whose a mount point under the state or run dir is, from where it sits:
 *   <runDir>/ns/<pod>/…           pinned namespaces          <runDir>/sandboxes/<pod>/…    /dev/shm
 *   <stateDir>/sandboxes/<pod>/…  the pod's files            <stateDir>/containers/<c>/…   rootfs
 *   <runDir>/containers/<c>/…     the monitor's container dir
 * Anything else (content, snapshots, a mount someone else made) has no owner and is left alone.
 */
export function mountOwner(mountPoint: string, dirs: StateDirs): MountOwner | undefined {
  const places: [string, string, MountOwner['kind']][] = [
    [dirs.runDir, 'ns', 'pod'],
    [dirs.runDir, 'sandboxes', 'pod'],
    [dirs.runDir, 'containers', 'container'],
    [dirs.stateDir, 'sandboxes', 'pod'],
    [dirs.stateDir, 'containers', 'container'],
  ];
  for (const [root, sub, kind] of places) {
    const rel = path.relative(path.join(root, sub), mountPoint);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const id = rel.split(path.sep)[0];
    if (NODELET_ID.test(id)) return { kind, id };
  }
  return undefined;
}

/** Mount points (from mountsUnder, deepest first) that sit in an id's place and whose id no record knows. */
export function orphanMounts(mountPoints: string[], dirs: StateDirs, known: KnownIds): string[] {
  return mountPoints.filter((p) => {
    const owner = mountOwner(p, dirs);
    if (!owner) return false;
    return !(owner.kind === 'pod' ? known.pods : known.containers).has(owner.id);
  });
}

/**
 * A READY pod whose parts a crash or a reboot took: it has its own network, but the pinned netns
 * or the CNI result is missing. Returns what is missing, or undefined when the pod is whole.
 */
export function missingPodParts(
  pod: { hostNetwork: boolean; stoppedAt?: string },
  has: { netns: boolean; network: boolean },
): string | undefined {
  if (pod.stoppedAt || pod.hostNetwork) return undefined;
  const missing = [!has.netns && 'network namespace', !has.network && 'CNI result'].filter(Boolean);
  return missing.length > 0 ? missing.join(' and ') : undefined;
}
