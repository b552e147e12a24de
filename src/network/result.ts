// What a CNI ADD returns, read into one shape whatever the spec version: 0.3.x, 0.4.0 and 1.0.0
// share `interfaces`/`ips`; 0.1/0.2 had `ip4`/`ip6` objects instead.

export interface CniInterface {
  name: string;
  mac?: string;
  /** The netns path for interfaces inside the pod; absent for host-side ones (the veth, the bridge). */
  sandbox?: string;
}

export interface CniIp {
  /** CIDR form, e.g. "10.88.0.5/16". */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIp[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export function parseResult(raw: unknown, plugin: string): CniResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`Cannot read the result of CNI plugin '${plugin}': it is not a JSON object`);
  }
  const r = raw as Json;
  const cniVersion = typeof r.cniVersion === 'string' ? r.cniVersion : '';
  const interfaces = Array.isArray(r.interfaces) ? r.interfaces.filter(isObject).map(toInterface) : [];
  let ips: CniIp[] = Array.isArray(r.ips) ? r.ips.filter(isObject).map(toIp) : [];
  if (!Array.isArray(r.ips)) ips = legacyIps(r);
  const routes = Array.isArray(r.routes)
    ? r.routes.filter(isObject).map((x) => ({ dst: String(x.dst), ...(x.gw ? { gw: String(x.gw) } : {}) }))
    : [];
  const dns = isObject(r.dns) ? r.dns : {};
  return { cniVersion, interfaces, ips, routes, dns };
}

/**
 * The pod's addresses, without prefix length, IPv4 first (the CRI's primary IP): those on an
 * interface inside the sandbox, or all when the result does not say which interface holds them.
 */
export function podIps(result: CniResult): string[] {
  const inPod = result.ips.filter((ip) => {
    if (ip.interface === undefined) return true;
    const itf = result.interfaces[ip.interface];
    return itf === undefined || Boolean(itf.sandbox);
  });
  const bare = inPod.map((ip) => ip.address.split('/')[0]).filter((a) => a !== '127.0.0.1' && a !== '::1');
  return [...bare.filter((a) => !a.includes(':')), ...bare.filter((a) => a.includes(':'))];
}

/** Interfaces outside the sandbox: for the bridge plugin, the bridge and the host end of the veth. */
export function hostInterfaces(result: CniResult): string[] {
  return result.interfaces.filter((i) => !i.sandbox).map((i) => i.name);
}

function toInterface(x: Json): CniInterface {
  return {
    name: String(x.name ?? ''),
    ...(typeof x.mac === 'string' ? { mac: x.mac } : {}),
    ...(typeof x.sandbox === 'string' && x.sandbox ? { sandbox: x.sandbox } : {}),
  };
}

function toIp(x: Json): CniIp {
  return {
    address: String(x.address ?? ''),
    ...(typeof x.gateway === 'string' ? { gateway: x.gateway } : {}),
    ...(typeof x.interface === 'number' ? { interface: x.interface } : {}),
  };
}

function legacyIps(r: Json): CniIp[] {
  const out: CniIp[] = [];
  for (const key of ['ip4', 'ip6']) {
    const v = r[key];
    if (isObject(v) && typeof v.ip === 'string') {
      out.push({ address: v.ip, ...(typeof v.gateway === 'string' ? { gateway: v.gateway } : {}) });
    }
  }
  return out;
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
