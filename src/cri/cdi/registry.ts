// The CDI spec directories read into one table of devices, as the CDI library's cache does: each
// *.json / *.yaml file directly in a directory is one spec; a file that cannot be read or is not a
// valid spec is reported and skipped, and the others still count. A later directory has priority
// over an earlier one (/var/run/cdi over /etc/cdi); two specs of the same priority that define the
// same device make it conflicted, and it is left out until one of them goes.
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { issuesText } from '../../common/schema';
import { messageOf } from '../../common/errors';
import { deviceNameError, kindError, parseKind, qualifiedName } from './names';
import { CDI_VERSIONS, cdiSpecSchema, type CdiContainerEdits, type CdiSpecFile } from './spec_schema';

/** A spec file bigger than this is not a spec: it is refused unread. */
const MAX_SPEC_BYTES = 4 << 20;

export interface CdiSpec {
  path: string;
  /** The index of its directory: higher wins. */
  priority: number;
  kind: string;
  /** Edits every container gets that asks for any device of this spec. */
  edits: CdiContainerEdits;
}

export interface CdiDevice {
  /** vendor/class=name */
  name: string;
  spec: CdiSpec;
  edits: CdiContainerEdits;
}

export interface CdiRegistry {
  devices: ReadonlyMap<string, CdiDevice>;
  /** What was wrong, by spec file (or directory). */
  errors: ReadonlyMap<string, string[]>;
}

const versionParts = (v: string) => v.replace(/^v/, '').split('.').map(Number);
function versionLess(a: string, b: string): boolean {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

/** The lowest version whose fields a spec uses (the library's MinimumRequiredVersion). */
export function minimumVersion(spec: CdiSpecFile): string {
  const all = [spec.containerEdits ?? {}, ...spec.devices.map((d) => d.containerEdits)];
  if (all.some((e) => e.intelRdt !== undefined || (e.additionalGids?.length ?? 0) > 0)) return '0.7.0';
  const cls = parseKind(spec.kind)?.class ?? '';
  if (
    Object.keys(spec.annotations ?? {}).length > 0 ||
    spec.devices.some((d) => Object.keys(d.annotations ?? {}).length > 0) ||
    cls.includes('.')
  ) {
    return '0.6.0';
  }
  if (
    spec.devices.some((d) => /^[^A-Za-z]/.test(d.name)) ||
    all.some((e) => e.deviceNodes?.some((n) => n.hostPath))
  ) {
    return '0.5.0';
  }
  if (all.some((e) => e.mounts?.some((m) => m.type))) return '0.4.0';
  return '0.3.0';
}

function isEmpty(edits: CdiContainerEdits): boolean {
  return (
    !edits.env?.length &&
    !edits.deviceNodes?.length &&
    !edits.hooks?.length &&
    !edits.mounts?.length &&
    !edits.additionalGids?.length &&
    edits.intelRdt === undefined
  );
}

/** A spec file's text checked as the library checks it; throws what is wrong with it. */
export function parseCdiSpec(text: string, file: string, priority: number): CdiDevice[] {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new Error(`not JSON or YAML: ${messageOf(err)}`);
  }
  const parsed = cdiSpecSchema.safeParse(raw);
  if (!parsed.success) throw new Error(issuesText(parsed.error));
  const data = parsed.data;
  const version = data.cdiVersion.replace(/^v/, '');
  if (!(CDI_VERSIONS as readonly string[]).includes(version)) {
    throw new Error(`cdiVersion '${data.cdiVersion}' is not one of ${CDI_VERSIONS.join(', ')}`);
  }
  const needed = minimumVersion(data);
  if (versionLess(version, needed)) {
    throw new Error(`cdiVersion '${data.cdiVersion}' is too old for the fields used: they need ${needed}`);
  }
  const badKind = kindError(data.kind);
  if (badKind) throw new Error(`invalid kind: ${badKind}`);
  const spec: CdiSpec = { path: file, priority, kind: data.kind, edits: data.containerEdits ?? {} };
  const seen = new Set<string>();
  return data.devices.map((d) => {
    const badName = deviceNameError(d.name);
    if (badName) throw new Error(`invalid device: ${badName}`);
    if (seen.has(d.name)) throw new Error(`device '${d.name}' is defined twice`);
    seen.add(d.name);
    if (isEmpty(d.containerEdits)) throw new Error(`device '${d.name}' has no container edits`);
    return { name: qualifiedName(data.kind, d.name), spec, edits: d.containerEdits };
  });
}

async function specFilesIn(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => !e.isDirectory() && /\.(json|yaml)$/.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

async function readSpecFile(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MAX_SPEC_BYTES) throw new Error(`${stat.size} bytes, more than ${MAX_SPEC_BYTES}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Reads every spec of `dirs` (lowest priority first). */
export async function loadCdiRegistry(dirs: readonly string[]): Promise<CdiRegistry> {
  const devices = new Map<string, CdiDevice>();
  const conflicts = new Set<string>();
  const errors = new Map<string, string[]>();
  const report = (where: string, message: string) =>
    errors.set(where, [...(errors.get(where) ?? []), message]);
  for (const [priority, dir] of dirs.entries()) {
    let files: string[];
    try {
      files = await specFilesIn(dir);
    } catch (err) {
      report(dir, `cannot read the CDI spec directory: ${messageOf(err)}`);
      continue;
    }
    for (const file of files) {
      let found: CdiDevice[];
      try {
        found = parseCdiSpec(await readSpecFile(file), file, priority);
      } catch (err) {
        report(file, messageOf(err));
        continue;
      }
      for (const device of found) {
        const other = devices.get(device.name);
        if (other && other.spec.priority === priority) {
          const message = `conflicting device '${device.name}' (specs '${file}', '${other.spec.path}')`;
          report(file, message);
          report(other.spec.path, message);
          conflicts.add(device.name);
          continue;
        }
        devices.set(device.name, device);
      }
    }
  }
  for (const name of conflicts) devices.delete(name);
  return { devices, errors };
}
