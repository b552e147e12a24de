// Registry authentication: the WWW-Authenticate challenge (Bearer token service or Basic), and the
// credentials a CRI AuthConfig carries (user/password, "auth" = base64 user:pass, an identity
// token to trade for access tokens, or a ready registry token).
import { invalidArgument, unavailable } from '../common/errors';

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

/** Asks the token service of a Bearer challenge for a pull token. */
export async function fetchBearerToken(
  challenge: Challenge,
  scope: string,
  creds: Credentials | undefined,
  signal: AbortSignal,
): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw unavailable(`Cannot authenticate to the registry: its Bearer challenge has no realm`);
  const url = new URL(realm);
  let res: Response;
  if (creds?.identityToken) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: creds.identityToken,
      client_id: 'nodelet',
      scope,
    });
    if (challenge.params.service) form.set('service', challenge.params.service);
    res = await fetch(url, { method: 'POST', body: form, signal });
  } else {
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? scope);
    const headers: Record<string, string> = {};
    if (creds?.username) headers.authorization = basicHeader(creds);
    res = await fetch(url, { headers, signal });
  }
  if (!res.ok) {
    const why =
      res.status === 401 || res.status === 403 ? 'the credentials were refused' : `HTTP ${res.status}`;
    throw unavailable(`Cannot get a token from '${url.origin}${url.pathname}': ${why}`);
  }
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token)
    throw unavailable(`Cannot get a token from '${url.origin}${url.pathname}': the answer holds no token`);
  return token;
}
