// What a CNI ADD returns, read into one shape whatever the spec version: 0.3.x, 0.4.0 and 1.0.0
// share `interfaces`/`ips`; 0.1/0.2 had `ip4`/`ip6` objects instead.
import { z } from 'zod';
import { internal } from '../common/errors';
import { parseWith } from '../common/schema';

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

const ifaceSchema = z.object({
  name: z.string(),
  mac: z.string().optional(),
  // An empty sandbox is a host-side interface, as an absent one is.
  sandbox: z
    .string()
    .optional()
    .transform((s) => s || undefined),
});

const ipSchema = z.object({
  address: z.string().min(1),
  gateway: z.string().optional(),
  interface: z.number().int().nonnegative().optional(),
});

const legacyIpSchema = z.object({ ip: z.string().min(1), gateway: z.string().optional() });

/** Every spec version's result; fields we do not read (ips' "version", routes' "priority") are dropped. */
const resultSchema = z.object({
  cniVersion: z.string().default(''),
  interfaces: z.array(ifaceSchema).default([]),
  ips: z.array(ipSchema).optional(),
  routes: z.array(z.object({ dst: z.string(), gw: z.string().optional() })).default([]),
  dns: z.record(z.unknown()).default({}),
  ip4: legacyIpSchema.optional(),
  ip6: legacyIpSchema.optional(),
});

/** Reads a plugin's ADD result; a field of the wrong shape is refused naming it (ips.0.address). */
export function parseResult(raw: unknown, plugin: string): CniResult {
  const r = parseWith(resultSchema, raw, (issues) =>
    internal(`Cannot read the result of CNI plugin '${plugin}': ${issues}`),
  );
  const legacy = [r.ip4, r.ip6].flatMap((ip) => (ip ? [{ address: ip.ip, gateway: ip.gateway }] : []));
  const ips = (r.ips ?? legacy).map((ip) => dropUndefined<CniIp>(ip));
  return {
    cniVersion: r.cniVersion,
    interfaces: r.interfaces.map(dropUndefined),
    ips,
    routes: r.routes.map(dropUndefined),
    dns: r.dns,
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
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
