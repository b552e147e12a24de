// A container's environment as the kubelet builds it: envFrom first, then literal values, the
// downward API (fieldRef, resourceFieldRef), ConfigMap and Secret keys (connected mode: read from the
// API when the pod arrived; static pods may not use them, manifest.ts refuses them), and $(VAR)
// references to variables defined earlier in the list or to the Service variables, which follow the
// container's own (service_env.ts; a variable the container sets wins).
import type { KeyValue } from '../gen/runtime/v1/KeyValue';
import { invalidArgument } from '../common/errors';
import { ContainerConfigError } from './container_config_error';
import type { Container, Pod } from './pod_spec';
import { effectiveRequests } from './qos';
import { bytes, cpuMillis } from './quantity';

/** What the downward API can tell a container about where it runs. */
export interface PodRuntimeFacts {
  nodeName: string;
  hostIP: string;
  podIPs: string[];
  /** Node allocatable, used for a resourceFieldRef whose limit is not set (cores, bytes). */
  nodeCpuCores: number;
  nodeMemoryBytes: number;
  /** ConfigMaps' and Secrets' data (decoded), by name, for env references (connected mode). */
  apiEnv?: ApiEnvData;
  /** The Service variables of the pod (connected mode; service_env.ts). */
  serviceEnv?: ReadonlyMap<string, string>;
}

export interface ApiEnvData {
  configMaps: Record<string, Record<string, string>>;
  secrets: Record<string, Record<string, string>>;
}

type KeyRef = { name: string; key: string; optional?: boolean };

function keyRefValue(envName: string, kind: 'configMap' | 'secret', ref: KeyRef, facts: PodRuntimeFacts) {
  const data = facts.apiEnv?.[kind === 'configMap' ? 'configMaps' : 'secrets'][ref.name];
  const value = data?.[ref.key];
  if (value === undefined && !ref.optional) {
    throw invalidArgument(
      `Cannot resolve env '${envName}': ${kind} '${ref.name}' ${data ? `has no key '${ref.key}'` : 'is not available'}`,
    );
  }
  return value;
}

// The kubelet sets every key of an envFrom source under its prefix ("1-" gives "1-data-1"): the API
// server checks the names (any printable ASCII but '=' since 1.34). Only what exec cannot carry
// (an '=' or a NUL in the name) is skipped here.
const ENV_NAME = /^[^=\0]+$/;

/** The kernel's MAX_ARG_STRLEN: exec refuses a longer argument or environment string. */
const MAX_EXPANDED_BYTES = 128 * 1024;
/** What exec takes of args and environment together with the usual 8 MiB stack (a quarter of it). */
const MAX_EXPANDED_TOTAL_BYTES = 2 * 1024 * 1024;

/**
 * Expands $(NAME) from `vars`; $$ escapes a dollar; unknown references stay as written. Each var may
 * be referenced many times and may itself hold expansions, so the result can grow exponentially
 * with the spec: past `maxBytes` it stops at once (returns undefined) rather than build it.
 */
export function expandVars(
  input: string,
  vars: Pick<ReadonlyMap<string, string>, 'has' | 'get'>,
  maxBytes = Infinity,
): string | undefined {
  const pieces: string[] = [];
  let bytes = 0;
  const add = (piece: string) => {
    bytes += Buffer.byteLength(piece);
    pieces.push(piece);
    return bytes <= maxBytes;
  };
  const reference = /\$\$|\$\(([^)]*)\)/g;
  let last = 0;
  for (let m = reference.exec(input); m; m = reference.exec(input)) {
    const [match, name] = m;
    const value = match === '$$' ? '$' : name !== undefined && vars.has(name) ? vars.get(name)! : match;
    if (!add(input.slice(last, m.index)) || !add(value)) return undefined;
    last = m.index + match.length;
  }
  return add(input.slice(last)) ? pieces.join('') : undefined;
}

const LABEL_PATH = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** What the downward API reads of an object's metadata. */
export interface DownwardMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The value of a `metadata.*` field path, or undefined when the path is not one of them. */
export function metadataFieldValue(meta: DownwardMetadata, fieldPath: string): string | undefined {
  const m = LABEL_PATH.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? meta.labels : meta.annotations)?.[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
    case 'metadata.annotations': {
      const map = (fieldPath === 'metadata.labels' ? meta.labels : meta.annotations) ?? {};
      return Object.keys(map)
        .sort()
        .map((k) => `${k}=${JSON.stringify(map[k])}`)
        .join('\n');
    }
    default:
      return undefined;
  }
}

export function fieldRefValue(pod: Pod, fieldPath: string, facts: PodRuntimeFacts): string {
  const meta = metadataFieldValue(pod.metadata, fieldPath);
  if (meta !== undefined) return meta;
  switch (fieldPath) {
    case 'spec.nodeName':
      return facts.nodeName;
    case 'spec.serviceAccountName':
      return '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
    case 'status.podIP':
      return facts.podIPs[0] ?? '';
    case 'status.podIPs':
      return facts.podIPs.join(',');
    default:
      throw invalidArgument(`Cannot resolve fieldRef '${fieldPath}': not a supported field path`);
  }
}

export function resourceFieldRefValue(
  pod: Pod,
  ref: { resource: string; containerName?: string; divisor?: string | number },
  self: Container,
  facts: PodRuntimeFacts,
): string {
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const c = ref.containerName ? containers.find((x) => x.name === ref.containerName) : self;
  if (!c) throw invalidArgument(`Cannot resolve resourceFieldRef: no container '${ref.containerName}'`);
  const [kind, resource] = ref.resource.split('.', 2) as [string, string];
  const source =
    kind === 'limits' ? (c.resources?.limits ?? {}) : kind === 'requests' ? effectiveRequests(c) : undefined;
  if (!source || !['cpu', 'memory', 'ephemeral-storage'].includes(resource)) {
    throw invalidArgument(`Cannot resolve resourceFieldRef '${ref.resource}': not a supported resource`);
  }
  let value: string | number;
  if (source[resource] !== undefined) value = source[resource];
  else if (kind === 'limits' && resource === 'cpu') value = facts.nodeCpuCores;
  else if (kind === 'limits' && resource === 'memory') value = facts.nodeMemoryBytes;
  else value = 0;
  return divideRoundingUp(resource, value, ref.divisor);
}

/**
 * `value` in units of `divisor`, rounded up as the kubelet's ExtractContainerResourceValue: CPU in
 * whole millicores (so 1250m / 1 is 2, never 1250.0000000000002m), bytes as whole bytes. The API
 * server sends an unset divisor as "0", which means 1.
 */
function divideRoundingUp(resource: string, value: string | number, divisor: string | number | undefined) {
  const unit = resource === 'cpu' ? cpuMillis : bytes;
  const per = divisor === undefined ? 0 : unit(divisor);
  return String(Math.ceil(unit(value) / (per > 0 ? per : unit(1))));
}

/** The container's environment in order, every $(VAR) expanded against the variables before it. */
export function resolveEnv(pod: Pod, c: Container, facts: PodRuntimeFacts): KeyValue[] {
  const vars = new Map<string, string>();
  const services = facts.serviceEnv ?? new Map<string, string>();
  // $(NAME) looks at the container's variables first, then at the Service variables.
  const lookup = {
    has: (k: string) => vars.has(k) || services.has(k),
    get: (k: string) => (vars.has(k) ? vars.get(k) : services.get(k)),
  };
  for (const from of c.envFrom ?? []) {
    const ref = (from.configMapRef ?? from.secretRef) as { name: string; optional?: boolean } | undefined;
    if (!ref) continue;
    const kind = from.configMapRef ? 'configMaps' : 'secrets';
    const data = facts.apiEnv?.[kind][ref.name];
    if (!data && !ref.optional)
      throw invalidArgument(
        `Cannot resolve envFrom of container '${c.name}': '${ref.name}' is not available`,
      );
    for (const [k, v] of Object.entries(data ?? {}))
      if (ENV_NAME.test(`${from.prefix ?? ''}${k}`)) vars.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    let value: string | undefined;
    if (e.valueFrom?.fieldRef) value = fieldRefValue(pod, e.valueFrom.fieldRef.fieldPath, facts);
    else if (e.valueFrom?.resourceFieldRef)
      value = resourceFieldRefValue(pod, e.valueFrom.resourceFieldRef, c, facts);
    else if (e.valueFrom?.configMapKeyRef)
      value = keyRefValue(e.name, 'configMap', e.valueFrom.configMapKeyRef, facts);
    else if (e.valueFrom?.secretKeyRef)
      value = keyRefValue(e.name, 'secret', e.valueFrom.secretKeyRef, facts);
    else if (e.valueFrom)
      throw invalidArgument(`Cannot resolve env '${e.name}': its source is not supported`);
    else {
      value = expandVars(e.value ?? '', lookup, MAX_EXPANDED_BYTES);
      if (value === undefined) throw tooLarge(`env "${e.name}"`, c.name, 'expands', MAX_EXPANDED_BYTES);
    }
    // An optional reference to a missing key sets nothing.
    if (value !== undefined) vars.set(e.name, value);
  }
  for (const [k, v] of services) if (!vars.has(k)) vars.set(k, v);
  return [...vars].map(([key, value]) => ({ key, value }));
}

/** The environment by name (what $(VAR) in args and subPathExpr expands from). */
export function envMap(env: KeyValue[]): Map<string, string> {
  return new Map(env.map((kv) => [String(kv.key), String(kv.value)]));
}

function tooLarge(what: string, container: string, verb: string, limit: number): ContainerConfigError {
  return new ContainerConfigError(
    `${what} of container "${container}" ${verb} beyond ${limit} bytes, more than exec accepts`,
  );
}

/**
 * command and args with $(VAR) references expanded from the container's environment; each within
 * MAX_EXPANDED_BYTES, and all of them with the environment within MAX_EXPANDED_TOTAL_BYTES.
 */
export function expandCommand(c: Container, env: KeyValue[]): { command: string[]; args: string[] } {
  const vars = envMap(env);
  let total = 0;
  for (const [key, value] of vars) total += Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
  const expand = (s: string) => {
    const limit = Math.min(MAX_EXPANDED_BYTES, MAX_EXPANDED_TOTAL_BYTES - total);
    const value = limit < 0 ? undefined : expandVars(s, vars, limit);
    if (value === undefined) {
      if (limit < MAX_EXPANDED_BYTES)
        throw tooLarge('the environment and args', c.name, 'expand', MAX_EXPANDED_TOTAL_BYTES);
      throw tooLarge(`command or arg "${s.slice(0, 40)}"`, c.name, 'expands', MAX_EXPANDED_BYTES);
    }
    total += Buffer.byteLength(value) + 1;
    return value;
  };
  return { command: (c.command ?? []).map(expand), args: (c.args ?? []).map(expand) };
}
