// The manifest directory as a source of pods: scanned at start, on every change fs.watch reports, and
// every `rescanMs` (as the kubelet's fileCheckFrequency, since watches miss events on some file
// systems). Each scan is diffed against the previous one and only differences reach the agent.
import fs from 'node:fs';
import path from 'node:path';
import { DesiredPod, parseManifest } from './manifest';

export interface ManifestDiff {
  added: DesiredPod[];
  removed: DesiredPod[];
}

/** Pods by UID: a changed file has a new UID, so a change is one removal plus one addition. */
export function diffPods(previous: Map<string, DesiredPod>, next: Map<string, DesiredPod>): ManifestDiff {
  const added = [...next.values()].filter((p) => !previous.has(p.uid));
  const removed = [...previous.values()].filter((p) => !next.has(p.uid));
  return { added, removed };
}

/** Reads every manifest of the directory; files starting with '.' are ignored, as the kubelet does. */
export function readManifestDir(dir: string, nodeName: string): Map<string, DesiredPod> {
  const pods = new Map<string, DesiredPod>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return pods;
    throw err;
  }
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const file = path.join(dir, name);
    let content: string;
    try {
      if (!fs.statSync(file).isFile()) continue;
      content = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // removed while we read: the next scan sees it gone
    }
    const pod = parseManifest(file, content, nodeName);
    // Two files with one content still make two pods: the file name is part of the UID.
    pods.set(pod.uid, pod);
  }
  return pods;
}

export interface ManifestDirWatcher {
  /** Scans now and reports the difference (also used by tests to avoid waiting). */
  rescan(): void;
  close(): void;
}

export function watchManifestDir(
  dir: string,
  nodeName: string,
  onDiff: (diff: ManifestDiff) => void,
  options: { rescanMs?: number; onError?: (err: unknown) => void } = {},
): ManifestDirWatcher {
  let current = new Map<string, DesiredPod>();
  let debounce: NodeJS.Timeout | undefined;
  const rescan = () => {
    try {
      const next = readManifestDir(dir, nodeName);
      const diff = diffPods(current, next);
      current = next;
      if (diff.added.length || diff.removed.length) onDiff(diff);
    } catch (err) {
      options.onError?.(err);
    }
  };
  let watcher: fs.FSWatcher | undefined;
  try {
    // Editors write in several steps: wait a little so one save is one change.
    watcher = fs.watch(dir, () => {
      clearTimeout(debounce);
      debounce = setTimeout(rescan, 200);
    });
    watcher.on('error', (err) => options.onError?.(err));
  } catch (err) {
    options.onError?.(err); // the periodic scan still works, e.g. when the directory appears later
  }
  const timer = setInterval(rescan, options.rescanMs ?? 20_000);
  rescan();
  return {
    rescan,
    close() {
      clearInterval(timer);
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}
