// Native sidecars: init containers with restartPolicy Always. They start in order with the other init
// containers, keep running beside the app containers, are restarted whatever the pod's restartPolicy,
// and are stopped after the app containers, the last one first (the kubelet's terminationOrdering).
import type { Container, Pod } from './pod_spec';

export function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

/** The pod's sidecars' names, in spec order. */
export function sidecarNames(pod: Pod): string[] {
  return (pod.spec.initContainers ?? []).filter(isSidecar).map((c) => c.name);
}

/**
 * When each running container may be stopped: app containers at once, a sidecar once every app
 * container and every sidecar after it in the spec has stopped. `stopped(name)` settles when the
 * named container has stopped; names not running settle at once.
 */
export function terminationTurns(
  running: string[],
  sidecars: string[],
): { waitForTurn(name: string): Promise<void>; stopped(name: string): void } {
  const done = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  for (const name of running) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    done.set(name, { promise, resolve });
  }
  const apps = running.filter((n) => !sidecars.includes(n));
  return {
    waitForTurn(name) {
      const index = sidecars.indexOf(name);
      if (index < 0) return Promise.resolve();
      const before = [...apps, ...sidecars.slice(index + 1)];
      const waits = before.map((n) => done.get(n)?.promise ?? Promise.resolve());
      return Promise.all(waits).then(() => undefined);
    },
    stopped(name) {
      done.get(name)?.resolve();
    },
  };
}
