// Who is asking and may they: the kubelet's authentication chain (x509 client certificate, then a
// bearer token reviewed by the API server, then anonymous when allowed) and its authorization
// attributes (verb from the method, nodes/<subresource> from the path; kubelet server/auth.go).
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** What a SubjectAccessReview asks: may `user` <verb> nodes/<subresource> <name>? */
export interface RequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
  path: string;
}

export interface TokenReviewer {
  /** The user of a bearer token, or undefined when the API server does not know it. */
  reviewToken(token: string): Promise<UserInfo | undefined>;
}

export interface Authorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Promise<{ allowed: boolean; reason?: string }>;
}

export interface AuthenticationOptions {
  /** Client certificates are verified by the TLS layer against --client-ca-file; here they only need to be trusted. */
  x509: boolean;
  tokenReviewer?: TokenReviewer;
  anonymous: boolean;
}

const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());

/** The user a request authenticates as, or undefined (401). A bearer token that is refused is 401 too. */
export async function authenticate(
  req: http.IncomingMessage,
  options: AuthenticationOptions,
): Promise<UserInfo | undefined> {
  const socket = req.socket as TLSSocket;
  if (options.x509 && socket.authorized) {
    const cert = socket.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (cn) return { name: [cn].flat()[0], groups: asList(cert.subject.O) };
  }
  const header = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (bearer) {
    if (!options.tokenReviewer) return undefined;
    const user = await options.tokenReviewer.reviewToken(bearer);
    if (user) return { ...user, groups: [...user.groups, 'system:authenticated'] };
    return undefined;
  }
  return options.anonymous ? ANONYMOUS : undefined;
}

const VERBS: Record<string, string> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** isSubpath of the kubelet's auth.go: the path itself or anything under it. */
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * The subresources the kubelet checks for a path, in order; the first one allowed lets the request
 * in. /stats, /metrics and /logs have their own, all else is proxy. With KubeletFineGrainedAuthz
 * (on by default since 1.33) /pods, /runningpods, /healthz and /configz are first tried on a
 * narrower one (pods, healthz, configz), so read-only clients need not be given nodes/proxy.
 */
function subresourcesOf(path: string): string[] {
  const fine = (['pods', 'runningpods', 'healthz', 'configz'] as const).find((p) => under(path, `/${p}`));
  const narrow = fine === 'runningpods' ? 'pods' : fine;
  let coarse = 'proxy';
  if (under(path, '/stats')) coarse = 'stats';
  else if (under(path, '/metrics')) coarse = 'metrics';
  else if (under(path, '/logs')) coarse = 'log';
  else if (under(path, '/checkpoint')) coarse = 'checkpoint';
  return narrow ? [narrow, coarse] : [coarse];
}

/** One set of attributes per subresource to try, in the kubelet's order. */
export function requestAttributes(method: string, path: string, nodeName: string): RequestAttributes[] {
  const verb = VERBS[method.toUpperCase()] ?? method.toLowerCase();
  return subresourcesOf(path).map((subresource) => ({
    verb,
    resource: 'nodes',
    subresource,
    name: nodeName,
    path,
  }));
}

export const alwaysAllow: Authorizer = { authorize: async () => ({ allowed: true }) };

/** A message like the kubelet's: "Forbidden (user=…, verb=get, resource=nodes, subresource(s)=[configz proxy])". */
export function forbiddenMessage(user: UserInfo, tried: RequestAttributes[], reason?: string): string {
  const subs = tried.map((a) => a.subresource);
  const sub = subs.length === 1 ? `subresource=${subs[0]}` : `subresource(s)=[${subs.join(' ')}]`;
  const what = `user=${user.name}, verb=${tried[0]?.verb}, resource=nodes, ${sub}`;
  return `Forbidden (${what})${reason ? `: ${reason}` : ''}`;
}
