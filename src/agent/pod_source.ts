// Where the agent's pods come from. A source tells the agent's pod set which pods to run and which
// to remove; the set owns the workers. The manifest directory is one source (static pods); the API
// server's watch of the pods bound to this node is the other (connected mode).
import type { DesiredPod } from './manifest';
import { ManifestDirWatcher, watchManifestDir } from './manifest_dir';

export interface PodSink {
  /** Runs the pod (a pod already known by its UID is left as it is). */
  add(pod: DesiredPod): void;
  /** The pod's spec changed (same UID): containers whose spec changed are restarted. */
  update(pod: DesiredPod): void;
  /**
   * Stops the pod within `graceS` (default: its spec's terminationGracePeriodSeconds) and deletes
   * everything it had; resolves once it is gone. Unknown UIDs resolve at once.
   */
  remove(uid: string, options?: { graceS?: number }): Promise<void>;
  /** Conditions others set on the pod changed (readiness gates, DisruptionTarget; connected mode). */
  setConditions?(uid: string, conditions: NonNullable<DesiredPod['conditions']>): void;
  /** The pod's configMap, secret and projected volumes were read again (connected mode's sync). */
  refreshVolumes?(uid: string, apiVolumes: NonNullable<DesiredPod['apiVolumes']>): void;
}

export interface PodSource {
  /**
   * Resolves once the source has said at least once which pods it wants: only then may pods that
   * no source asks for be removed (an agent restarted while the API is away must not kill its pods).
   */
  readonly synced: Promise<void>;
  /** Looks again now instead of waiting for the next change or period. */
  rescan?(): void;
  close(): void;
}

export type PodSourceFactory = (sink: PodSink) => PodSource;

/** The manifest directory as a pod source: a changed file is a removal plus an addition. */
export function manifestDirSource(
  dir: string,
  nodeName: string,
  options: { rescanMs?: number; onError?: (err: unknown) => void },
): PodSourceFactory {
  return (sink) => {
    const watcher: ManifestDirWatcher = watchManifestDir(
      dir,
      nodeName,
      (diff) => {
        for (const gone of diff.removed)
          sink.remove(gone.uid).catch((err: unknown) => options.onError?.(err));
        for (const added of diff.added) sink.add(added);
      },
      { rescanMs: options.rescanMs, onError: options.onError },
    );
    return { synced: Promise.resolve(), rescan: () => watcher.rescan(), close: () => watcher.close() };
  };
}
