// `nodelet agent --config FILE`: a KubeletConfiguration (kubelet.config.k8s.io/v1beta1) read as the
// kubelet reads it. Each key the agent supports maps to one of its flags (CONFIG_KEYS, the one table
// to extend); a flag given on the command line wins over the file, as in the kubelet. Any other key
// is refused by name: a setting that would be silently ignored is worse than a node that does not start.
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';

export const KUBELET_CONFIG_API_VERSION = 'kubelet.config.k8s.io/v1beta1';

/** A config value as the flag's text (or texts, for a repeatable flag). */
type FlagValue = string | string[];

export interface ConfigKey {
  /** The agent option the key sets: a flag name (`config-only` marks options no flag sets). */
  flag: string;
  read: (value: unknown, key: string) => FlagValue;
  /** The kubelet has no flag for this key: the option comes from the file only. */
  configOnly?: boolean;
}

export class NodeConfigError extends Error {}

const fail = (key: string, value: unknown, expected: string): never => {
  throw new NodeConfigError(`Cannot use ${key}: ${JSON.stringify(value)} is not ${expected}`);
};

const text = (v: unknown, key: string) => (typeof v === 'string' ? v : fail(key, v, 'a string'));
const int = (v: unknown, key: string) => (Number.isInteger(v) ? String(v) : fail(key, v, 'an integer'));
const bool = (v: unknown, key: string) =>
  typeof v === 'boolean' ? String(v) : fail(key, v, 'true or false');
const strings = (v: unknown, key: string): string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : fail(key, v, 'a list of strings');
const commaList = (v: unknown, key: string) => strings(v, key).join(',');
/** A map of strings (systemReserved: {cpu: 500m}) as the flag's `name=value,…`. */
const stringMap = (v: unknown, key: string) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
    ? Object.entries(v as Record<string, string>)
        .map(([k, x]) => `${k}=${x}`)
        .join(',')
    : fail(key, v, 'a map of names to quantities');

const GO_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration ("1m30s", "500ms", "0s") in milliseconds. */
export function parseGoDuration(value: string): number | undefined {
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * GO_UNITS[m[2]];
    matched = re.lastIndex;
  }
  return matched === value.length && value.length > 0 ? Math.round(total) : undefined;
}

/** Durations become milliseconds, which every duration flag of the agent reads ("1500ms"). */
const duration = (v: unknown, key: string) => {
  const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
  return ms === undefined ? fail(key, v, 'a duration such as 30s or 1m30s') : `${ms}ms`;
};

/** registerWithTaints: [{key, value, effect}] as the flag's `key=value:Effect,…`. */
const taints = (v: unknown, key: string) => {
  if (!Array.isArray(v)) return fail(key, v, 'a list of taints');
  return v
    .map((t: { key?: unknown; value?: unknown; effect?: unknown }) => {
      if (typeof t?.key !== 'string' || typeof t.effect !== 'string')
        return fail(key, t, 'a taint with a key and an effect');
      return `${t.key}${t.value ? `=${String(t.value)}` : ''}:${t.effect}`;
    })
    .join(',');
};

const flag = (name: string, read: ConfigKey['read'] = text): ConfigKey => ({ flag: name, read });
const configOnly = (name: string, read: ConfigKey['read']): ConfigKey => ({
  flag: name,
  read,
  configOnly: true,
});

/**
 * The KubeletConfiguration keys the agent supports (nested keys by their dotted path) and the flag
 * each one sets. To support a key, add its line here (and the flag to AGENT_FLAGS if it is new).
 */
export const CONFIG_KEYS: Record<string, ConfigKey> = {
  staticPodPath: flag('pod-manifest-path'),
  containerRuntimeEndpoint: flag('container-runtime-endpoint'),
  podLogsDir: flag('pod-logs-dir'),
  cgroupDriver: flag('cgroup-driver'),
  cgroupRoot: flag('cgroup-root'),
  enforceNodeAllocatable: flag('enforce-node-allocatable', commaList),
  podPidsLimit: flag('pod-max-pids', int),
  systemReserved: flag('system-reserved', stringMap),
  kubeReserved: flag('kube-reserved', stringMap),
  fileCheckFrequency: flag('file-check-frequency', duration),
  syncFrequency: flag('sync-frequency', duration),
  maxPods: flag('max-pods', int),
  imageGCHighThresholdPercent: flag('image-gc-high-threshold', int),
  imageGCLowThresholdPercent: flag('image-gc-low-threshold', int),
  imageMinimumGCAge: flag('minimum-image-gc-age', duration),
  allowedUnsafeSysctls: flag('allowed-unsafe-sysctls', commaList),
  clusterDNS: flag('cluster-dns', strings),
  clusterDomain: flag('cluster-domain'),
  resolvConf: flag('resolv-conf'),
  registerWithTaints: flag('register-with-taints', taints),
  rotateCertificates: flag('rotate-certificates', bool),
  serverTLSBootstrap: flag('rotate-server-certificates', bool),
  shutdownGracePeriod: configOnly('shutdown-grace-period', duration),
  shutdownGracePeriodCriticalPods: configOnly('shutdown-grace-period-critical-pods', duration),
  enableServer: flag('enable-server', bool),
  address: flag('address'),
  port: flag('port', int),
  tlsCertFile: flag('tls-cert-file'),
  tlsPrivateKeyFile: flag('tls-private-key-file'),
  'authentication.anonymous.enabled': flag('anonymous-auth', bool),
  'authentication.webhook.enabled': flag('authentication-token-webhook', bool),
  'authentication.x509.clientCAFile': flag('client-ca-file'),
  'authorization.mode': flag('authorization-mode'),
};

/** Leaves of a parsed document by dotted path (objects are walked; lists and scalars are leaves). */
function leaves(doc: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(doc).flatMap(([k, v]) => {
    const key = prefix + k;
    if (v && typeof v === 'object' && !Array.isArray(v) && !(key in CONFIG_KEYS))
      return leaves(v as Record<string, unknown>, `${key}.`);
    return [[key, v] as [string, unknown]];
  });
}

/** The flag values a KubeletConfiguration document sets, by flag name. Refuses unknown keys by name. */
export function configFlagValues(content: string, source = 'the configuration'): Record<string, FlagValue> {
  let doc: unknown;
  try {
    doc = parseYaml(content);
  } catch (err) {
    throw new NodeConfigError(`Cannot read ${source}: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new NodeConfigError(`Cannot read ${source}: expected a KubeletConfiguration object`);
  const { apiVersion, kind, ...rest } = doc as Record<string, unknown>;
  if (kind !== 'KubeletConfiguration' || apiVersion !== KUBELET_CONFIG_API_VERSION)
    throw new NodeConfigError(
      `Cannot read ${source}: expected kind KubeletConfiguration, apiVersion ${KUBELET_CONFIG_API_VERSION} (got ${String(kind)}, ${String(apiVersion)})`,
    );
  const entries = leaves(rest);
  const unknown = entries.map(([k]) => k).filter((k) => !(k in CONFIG_KEYS));
  if (unknown.length > 0)
    throw new NodeConfigError(
      `Cannot use ${source}: the agent does not support ${unknown.map((k) => `'${k}'`).join(', ')} (supported keys: nodelet agent --help)`,
    );
  const out: Record<string, FlagValue> = {};
  for (const [key, value] of entries) out[CONFIG_KEYS[key].flag] = CONFIG_KEYS[key].read(value, key);
  return out;
}

/** The file's values under the command line's: a flag given on the command line wins. */
export function mergeConfigFile<T extends Record<string, unknown>>(
  file: string | undefined,
  flags: T,
): T & Record<string, FlagValue | undefined> {
  if (!file) return flags as T & Record<string, FlagValue | undefined>;
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new NodeConfigError(
      `Cannot read --config '${file}': ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  const fromFile = configFlagValues(content, `--config '${file}'`);
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return { ...fromFile, ...given } as T & Record<string, FlagValue | undefined>;
}

/** The supported keys for `nodelet agent --help` and the configuration reference. */
export function configKeysHelp(): string {
  const rows = Object.entries(CONFIG_KEYS).map(
    ([key, k]) => `  ${key.padEnd(36)} ${k.configOnly ? '(file only)' : `--${k.flag}`}`,
  );
  return `\nKubeletConfiguration keys of --config (${KUBELET_CONFIG_API_VERSION}; any other key is refused):\n${rows.join('\n')}\n`;
}
