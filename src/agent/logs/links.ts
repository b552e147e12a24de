// The /var/log/containers links log shippers read (fluentd's and Fluent Bit's kubernetes inputs take
// pod, namespace, container and id from the name): `<pod>_<namespace>_<container>-<id>.log`, to the
// container's live log. Made after the container starts, removed with it; a link left dangling by
// a container that is gone is swept (the kubelet's evictPodLogsDirectories).
import fs from 'node:fs';
import path from 'node:path';

const LINK_SUFFIX = '.log';
/** ext4 allows 255 bytes in a name: the kubelet cuts the name before the suffix. */
const MAX_NAME = 255;

export interface LinkTarget {
  podName: string;
  namespace: string;
  containerName: string;
  containerId: string;
}

export function logLinkPath(linksDir: string, t: LinkTarget): string {
  let name = `${t.podName}_${t.namespace}_${t.containerName}-${t.containerId}`;
  if (name.length > MAX_NAME - LINK_SUFFIX.length) name = name.slice(0, MAX_NAME - LINK_SUFFIX.length);
  return path.join(linksDir, name + LINK_SUFFIX);
}

/** The container id a link names (the part after the last '-'), or undefined. */
export function containerIdOfLink(linkName: string): string | undefined {
  if (!linkName.endsWith(LINK_SUFFIX)) return undefined;
  const base = linkName.slice(0, -LINK_SUFFIX.length);
  const dash = base.lastIndexOf('-');
  return dash < 0 ? undefined : base.slice(dash + 1) || undefined;
}

/** Links `logPath` as the container's; an existing link of that name is replaced. */
export async function linkContainerLog(linksDir: string, t: LinkTarget, logPath: string): Promise<string> {
  const link = logLinkPath(linksDir, t);
  await fs.promises.mkdir(linksDir, { recursive: true, mode: 0o755 });
  // Through a temporary name and a rename: a reader never sees the link missing.
  const tmp = `${link}.${process.pid}.tmp`;
  await fs.promises.rm(tmp, { force: true });
  await fs.promises.symlink(logPath, tmp);
  await fs.promises.rename(tmp, link);
  return link;
}

/** Removes the links to the container (found by its id, whatever the names they were made from). */
export async function unlinkContainerLog(linksDir: string, containerId: string): Promise<void> {
  const names = await fs.promises.readdir(linksDir).catch(() => [] as string[]);
  for (const name of names)
    if (containerIdOfLink(name) === containerId)
      await fs.promises.rm(path.join(linksDir, name), { force: true });
}

/** The links whose target is gone, with the container id each names. */
export async function danglingLinks(linksDir: string): Promise<{ link: string; containerId?: string }[]> {
  const names = await fs.promises.readdir(linksDir).catch(() => [] as string[]);
  const out: { link: string; containerId?: string }[] = [];
  for (const name of names) {
    if (!name.endsWith(LINK_SUFFIX)) continue;
    const link = path.join(linksDir, name);
    const missing = await fs.promises.stat(link).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    );
    if (missing) out.push({ link, containerId: containerIdOfLink(name) });
  }
  return out;
}
