// Registry authentication: the WWW-Authenticate challenge (Bearer token service or Basic), and the
// credentials a CRI AuthConfig carries (user/password, "auth" = base64 user:pass, an identity
// token to trade for access tokens, or a ready registry token).
import { z } from 'zod';
import { failedPrecondition, invalidArgument, messageOf, unavailable } from '../common/errors';
import { MAX_TOKEN_ANSWER_BYTES, readBounded } from './limits';
import { isInsecure, RegistryHostsConfig } from './registry_hosts';

/** A token service's answer (Docker's token auth spec; OAuth2 servers say access_token). */
const tokenAnswerSchema = z.object({ token: z.string().optional(), access_token: z.string().optional() });

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker login's identitytoken). */
  identityToken?: string;
  /** A bearer token sent as is. */
  registryToken?: string;
  /** The registry these credentials are for (`host[:port]`, or a URL); unset means the image's own. */
  serverAddress?: string;
}

export interface AuthConfigLike {
  username?: string;
  password?: string;
  auth?: string;
  identity_token?: string;
  registry_token?: string;
  server_address?: string;
}

export function credentialsFromAuthConfig(auth: AuthConfigLike | null | undefined): Credentials | undefined {
  if (!auth) return undefined;
  let { username, password } = auth;
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw invalidArgument(`Cannot use the auth of the pull request: 'auth' is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const creds: Credentials = {
    username: username || undefined,
    password: password || undefined,
    identityToken: auth.identity_token || undefined,
    registryToken: auth.registry_token || undefined,
  };
  const secret = Object.values(creds).some((v) => v !== undefined);
  if (auth.server_address) creds.serverAddress = auth.server_address;
  return secret ? creds : undefined;
}

/**
 * Whether credentials go to an endpoint: always to the upstream registry; to a mirror only when
 * they name that mirror, so a registry's password never leaks to another host.
 */
export function credentialsFor(
  creds: Credentials | undefined,
  host: string,
  mirror: boolean,
): Credentials | undefined {
  if (!creds || !mirror) return creds;
  const named = creds.serverAddress?.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return named === host ? creds : undefined;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted or bare values). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) params[p[1].toLowerCase()] = p[2] ?? p[3];
  return { scheme: m[1].toLowerCase(), params };
}

export function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`;
}

/**
 * Where a Bearer challenge may send us for a token. The realm is named by the registry, so a
 * hostile registry names any URL it likes; the credentials for the registry then go with the
 * token request. containerd and Docker send them to any realm (Docker Hub's realm is on another
 * host, auth.docker.io, so a realm on another host must stay allowed). nodelet keeps that, but
 * holds realms to the rule registry endpoints already obey: HTTPS, or plain HTTP only to a host
 * that is on loopback or in registry.insecureRegistries. Anything else (plain HTTP elsewhere,
 * other schemes) is refused before a single byte is sent, with or without credentials, as
 * oras-go and go-containerregistry now do for TLS downgrades.
 */
export function checkRealm(realm: string | undefined, registry: string, hosts: RegistryHostsConfig): URL {
  const why = `Cannot authenticate to ${registry}`;
  if (!realm) throw unavailable(`${why}: its Bearer challenge has no realm`);
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw failedPrecondition(`${why}: its token realm '${realm}' is not a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isInsecure(url.host, hosts)) return url;
  throw failedPrecondition(
    `${why}: its token realm '${realm}' is ${url.protocol === 'http:' ? 'plain HTTP' : `not HTTP(S)`}, and '${url.host}' is neither on loopback nor in registry.insecureRegistries; nothing was sent to it`,
  );
}

export interface TokenRequest {
  /** The scope asked for when the challenge names none: `repository:<repo>:pull`. */
  scope: string;
  /** The registry host that challenged, for messages. */
  registry: string;
  hosts: RegistryHostsConfig;
  creds?: Credentials;
  signal: AbortSignal;
}

/** Asks the token service of a Bearer challenge for a pull token. */
export async function fetchBearerToken(challenge: Challenge, req: TokenRequest): Promise<string> {
  const { creds, signal, scope } = req;
  const url = checkRealm(challenge.params.realm, req.registry, req.hosts);
  const where = `'${url.origin}${url.pathname}'`;
  // A redirect would carry the credentials to a place the check above never saw.
  const common = { signal, redirect: 'error' as const };
  let res: Response;
  try {
    if (creds?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'nodelet',
        scope,
      });
      if (challenge.params.service) form.set('service', challenge.params.service);
      res = await fetch(url, { ...common, method: 'POST', body: form });
    } else {
      if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
      url.searchParams.set('scope', challenge.params.scope ?? scope);
      const headers: Record<string, string> = {};
      if (creds?.username) headers.authorization = basicHeader(creds);
      res = await fetch(url, { ...common, headers });
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw unavailable(
      `Cannot get a token from ${where}: ${messageOf((err as { cause?: unknown }).cause ?? err)}`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const why =
      res.status === 401 || res.status === 403 ? 'the credentials were refused' : `HTTP ${res.status}`;
    throw unavailable(`Cannot get a token from ${where}: ${why}`);
  }
  const raw = await readBounded(res, MAX_TOKEN_ANSWER_BYTES, `the token from ${where}`);
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw unavailable(`Cannot get a token from ${where}: the answer is not JSON`);
  }
  const body = tokenAnswerSchema.safeParse(doc);
  const token = body.success ? body.data.token || body.data.access_token : undefined;
  if (!token) throw unavailable(`Cannot get a token from ${where}: the answer holds no token`);
  return token;
}
