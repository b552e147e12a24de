// `criu dump` of a running container, left running (the kubelet's forensic checkpoint). What the
// container shares with the host or its pod is marked external, so CRIU records a key instead of
// trying to dump it, and restore.ts hands the new pod's object back under the same key (as runc
// does when it checkpoints a container of an existing pod):
//   - the pod's network namespace                 --external net[<inode>]:extNetNs
//   - bind mounts from the host (hosts, volumes)  --external mnt[<destination>]:<destination>
//   - stdio opened outside the container's mounts --external file[<mnt_id>:<inode>] (the monitor's FIFOs,
//     the host's /dev/null), listed in descriptors.json by fd number
// IPC and UTS are dumped; restore joins the new pod's instead (--join-ns).
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition } from '../../common/errors';
import type { ContainerSpec } from '../spec/types';
import { runCriu } from './criu';

export const DESCRIPTORS_FILE = 'descriptors.json';
export const NET_NS_KEY = 'extNetNs';

/** One stdio fd of the container's process that CRIU was told is external. */
export interface ExternalDescriptor {
  fd: number;
  key: string;
}

export interface DumpOptions {
  criu: string;
  pid: number;
  spec: ContainerSpec;
  /** Where CRIU writes its images (the archive's checkpoint/). */
  imagesDir: string;
  /** Where CRIU writes dump.log (the archive's top level). */
  workDir: string;
  timeoutMs?: number;
}

export async function dumpContainer(o: DumpOptions): Promise<void> {
  refuseUnsupported(o.spec);
  fs.mkdirSync(o.imagesDir, { recursive: true });
  const descriptors = externalStdio(o.pid);
  fs.writeFileSync(path.join(o.imagesDir, DESCRIPTORS_FILE), JSON.stringify(descriptors));
  const args = [
    'dump',
    '--tree',
    String(o.pid),
    '--images-dir',
    o.imagesDir,
    '--work-dir',
    o.workDir,
    '--log-file',
    'dump.log',
    '-v4',
    '--leave-running',
    '--file-locks',
    '--ext-unix-sk',
    '--manage-cgroups=ignore',
    ...descriptors.flatMap((d) => ['--external', d.key]),
    ...netNamespaceArgs(o.pid, o.spec),
    ...bindMounts(o.spec).flatMap((dest) => ['--external', `mnt[${dest}]:${dest}`]),
  ];
  await runCriu(
    { criu: o.criu, args, logFile: path.join(o.workDir, 'dump.log'), timeoutMs: o.timeoutMs },
    `checkpoint container '${o.spec.id}'`,
  );
}

/** What nodelet does not hand to CRIU yet, refused before CRIU touches the process. */
function refuseUnsupported(spec: ContainerSpec): void {
  const why = (reason: string) => failedPrecondition(`Cannot checkpoint container '${spec.id}': ${reason}`);
  if (spec.process.terminal) throw why('it has a terminal, whose other end the monitor holds');
  const pid = spec.linux.namespaces.find((ns) => ns.type === 'pid');
  if (!pid) throw why('it runs in the host PID namespace');
  if (pid.path) throw why('it shares its PID namespace with the pod or another container');
  const net = spec.linux.namespaces.find((ns) => ns.type === 'network');
  if (!net) throw why('it runs in the host network namespace');
}

/** Destinations of the mounts whose source is on the host: binds, as runc marks them. */
export function bindMounts(spec: ContainerSpec): string[] {
  return spec.mounts
    .filter((m) => m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind'))
    .map((m) => m.destination);
}

function netNamespaceArgs(pid: number, spec: ContainerSpec): string[] {
  const net = spec.linux.namespaces.find((ns) => ns.type === 'network');
  if (!net?.path) return []; // a network namespace of its own is dumped with it
  const inode = fs.statSync(`/proc/${pid}/ns/net`).ino;
  return ['--external', `net[${inode}]:${NET_NS_KEY}`];
}

/**
 * The stdio of the process (fds 0-2) that lives on a mount the container cannot see: CRIU could
 * not find it again, so it is external, keyed as CRIU keys files (file[<mnt_id>:<inode>] in hex).
 */
function externalStdio(pid: number): ExternalDescriptor[] {
  const visible = new Set(
    fs
      .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter(Boolean),
  );
  const out: ExternalDescriptor[] = [];
  for (const fd of [0, 1, 2]) {
    let link: string;
    let info: string;
    let inode: number;
    try {
      link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      inode = fs.statSync(`/proc/${pid}/fd/${fd}`).ino;
    } catch {
      continue; // not open
    }
    if (!link.startsWith('/')) continue; // pipes, sockets, anon inodes: CRIU handles them itself
    const mntId = /^mnt_id:\s*(\d+)/m.exec(info)?.[1];
    if (mntId === undefined || visible.has(mntId)) continue;
    out.push({ fd, key: `file[${Number(mntId).toString(16)}:${inode.toString(16)}]` });
  }
  return out;
}
