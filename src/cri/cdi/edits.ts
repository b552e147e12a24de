// CDI devices into a container's spec, as the CDI library's cache.InjectDevices and
// ContainerEdits.Apply do it for containerd's WithCDIDevices: the requested names are resolved
// against the spec directories (an unknown or malformed name refuses the whole request, naming
// it); a spec's own edits come once, before those of its first device asked for; then env entries
// replace the same keys, device nodes replace nodes at the same path and get an allow rule, mounts
// replace mounts at the same destination and are ordered by depth, and additional GIDs are added.
// What nodelet cannot do (OCI hooks, Intel RDT) is refused by name before anything is made.
import path from 'node:path';
import { invalidArgument, messageOf, unimplemented } from '../../common/errors';
import type { ContainerSpec, DeviceRule, LinuxDevice, MountSpec } from '../../runtime';
import type { DeviceHost } from '../host';
import { parseQualifiedName } from './names';
import type { CdiRegistry } from './registry';
import type { CdiContainerEdits, CdiDeviceNode, CdiMount } from './spec_schema';

/** One set of edits and where it came from ("vendor.com/gpu=0", or the spec file for its own). */
export interface CdiEditSet {
  source: string;
  edits: CdiContainerEdits;
}

/** The edits for `requested`, in the order they apply; throws before anything is made. */
export function resolveCdiDevices(registry: CdiRegistry, requested: readonly string[]): CdiEditSet[] {
  for (const name of requested) {
    const parsed = parseQualifiedName(name);
    if ('error' in parsed) throw invalidArgument(`Cannot inject CDI device '${name}': ${parsed.error}`);
  }
  const unresolved = requested.filter((name) => !registry.devices.has(name));
  if (unresolved.length > 0) {
    const skipped = registry.errors.size
      ? ` (${registry.errors.size} CDI spec file(s) were skipped as invalid: see the daemon log)`
      : '';
    throw invalidArgument(
      `Cannot inject CDI devices: unresolvable CDI devices ${unresolved.map((n) => `'${n}'`).join(', ')}${skipped}`,
    );
  }
  const sets: CdiEditSet[] = [];
  const specsDone = new Set<string>();
  for (const name of requested) {
    const device = registry.devices.get(name)!;
    if (!specsDone.has(device.spec.path)) {
      specsDone.add(device.spec.path);
      sets.push({ source: `${name} (spec '${device.spec.path}')`, edits: device.spec.edits });
    }
    sets.push({ source: name, edits: device.edits });
  }
  for (const { source, edits } of sets) refuseUnsupported(source, edits);
  return sets;
}

function refuseUnsupported(source: string, edits: CdiContainerEdits): void {
  const hook = edits.hooks?.[0];
  if (hook) {
    throw unimplemented(
      `Cannot inject CDI device ${source}: it asks for a '${hook.hookName}' hook ('${hook.path}'), ` +
        'and nodelet runs no OCI hooks',
    );
  }
  if (edits.intelRdt) {
    throw unimplemented(
      `Cannot inject CDI device ${source}: it asks for Intel RDT, which nodelet does not support`,
    );
  }
}

/** Applies the resolved edits to `spec` in place; device nodes are looked up on `host` where the spec leaves them out. */
export function applyCdiEdits(spec: ContainerSpec, sets: readonly CdiEditSet[], host: DeviceHost): void {
  const rules: DeviceRule[] = [];
  let mountsAdded = false;
  for (const { source, edits } of sets) {
    if (edits.env?.length) spec.process.env = withEnv(spec.process.env, edits.env);
    for (const node of edits.deviceNodes ?? []) {
      const device = deviceOf(node, host, spec, source);
      spec.linux.devices = [...spec.linux.devices.filter((d) => d.path !== device.path), device];
      const access = node.permissions === 'none' ? undefined : node.permissions || 'rwm';
      if ((device.type === 'c' || device.type === 'b') && access !== undefined) {
        rules.push({ allow: true, type: device.type, major: device.major, minor: device.minor, access });
      }
    }
    for (const m of edits.mounts ?? []) {
      const mount = mountOf(m, source);
      spec.mounts = [...spec.mounts.filter((x) => x.destination !== mount.destination), mount];
      mountsAdded = true;
    }
    const gids = (edits.additionalGids ?? []).filter(
      (gid, i, all) => gid !== 0 && all.indexOf(gid) === i && !spec.process.user.additionalGids.includes(gid),
    );
    if (gids.length) {
      spec.process.user = {
        ...spec.process.user,
        additionalGids: [...spec.process.user.additionalGids, ...gids],
      };
    }
  }
  if (rules.length) {
    spec.linux.resources = {
      ...spec.linux.resources,
      devices: [...(spec.linux.resources?.devices ?? []), ...rules],
    };
  }
  // Parents before what is mounted below them (Array.prototype.sort is stable).
  if (mountsAdded) spec.mounts = [...spec.mounts].sort((a, b) => depth(a.destination) - depth(b.destination));
}

const depth = (p: string) => path.posix.normalize(p).split('/').length - 1;

function withEnv(env: readonly string[], added: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of [...env, ...added])
    byKey.set(e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e);
  return [...byKey.values()];
}

/** The library's fillMissingInfo: the host node gives the type and numbers the spec leaves out. */
function deviceOf(node: CdiDeviceNode, host: DeviceHost, spec: ContainerSpec, source: string): LinuxDevice {
  const fail = (reason: string) => invalidArgument(`Cannot inject CDI device ${source}: ${reason}`);
  const containerPath = path.posix.normalize(node.path);
  // The init makes nodes on the container's /dev tmpfs only: elsewhere they would land in the image.
  if (!path.posix.isAbsolute(node.path) || !containerPath.startsWith('/dev/')) {
    throw fail(`device node path '${node.path}' is not under /dev`);
  }
  const hostPath = node.hostPath ?? node.path;
  let type = node.type || undefined;
  let major = node.major ?? 0;
  let minor = node.minor ?? 0;
  if (!(type && (major !== 0 || type === 'p'))) {
    let found: ReturnType<DeviceHost['deviceAt']>;
    try {
      found = host.deviceAt(hostPath);
    } catch (err) {
      throw fail(`cannot stat host device '${hostPath}': ${messageOf(err)}`);
    }
    if (!found || found === 'directory') throw fail(`host path '${hostPath}' is not a device node`);
    if (type && type !== found.type) {
      throw fail(`device '${node.path}' has type '${type}' but host device '${hostPath}' is '${found.type}'`);
    }
    type = found.type;
    if (major === 0) ({ major, minor } = found);
  }
  const device: LinuxDevice = { path: containerPath, type: type!, major, minor };
  if (node.fileMode !== undefined) device.fileMode = node.fileMode;
  // Left out, the node belongs to the container's user, so that a non-root process can open it.
  const { uid, gid } = spec.process.user;
  const ownerUid = node.uid ?? (uid > 0 ? uid : undefined);
  const ownerGid = node.gid ?? (gid > 0 ? gid : undefined);
  if (ownerUid !== undefined) device.uid = ownerUid;
  if (ownerGid !== undefined) device.gid = ownerGid;
  return device;
}

function mountOf(m: CdiMount, source: string): MountSpec {
  if (!path.posix.isAbsolute(m.containerPath)) {
    throw invalidArgument(
      `Cannot inject CDI device ${source}: mount container path '${m.containerPath}' is not absolute`,
    );
  }
  const options = [...(m.options ?? [])];
  // CDI producers leave the type out of bind mounts (runc reads them from the options).
  const type = m.type || 'bind';
  if (type === 'bind' && !options.includes('bind') && !options.includes('rbind')) options.unshift('bind');
  return { destination: m.containerPath, source: m.hostPath, type, options };
}
