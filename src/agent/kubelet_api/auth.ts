// Who is asking and may they: the kubelet's authentication chain (x509 client certificate, then a
// bearer token reviewed by the API server, then anonymous when allowed) and its authorization
// attributes (verb from the method, nodes/<subresource> from the path; kubelet server_auth.go).
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

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

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

/** The subresource the kubelet checks for a path: /stats, /metrics and /logs have their own, all else is proxy. */
export function subresourceOf(path: string): string {
  const first = path.split('/')[1] ?? '';
  if (first === 'stats') return 'stats';
  if (first === 'metrics') return 'metrics';
  if (first === 'logs') return 'log';
  return 'proxy';
}

export function requestAttributes(method: string, path: string, nodeName: string): RequestAttributes {
  return {
    verb: VERBS[method.toUpperCase()] ?? method.toLowerCase(),
    resource: 'nodes',
    subresource: subresourceOf(path),
    name: nodeName,
    path,
  };
}

export const alwaysAllow: Authorizer = { authorize: async () => ({ allowed: true }) };

/** A message like the kubelet's: "Forbidden (user=…, verb=get, resource=nodes, subresource=proxy)". */
export function forbiddenMessage(user: UserInfo, attrs: RequestAttributes, reason?: string): string {
  const what = `user=${user.name}, verb=${attrs.verb}, resource=nodes, subresource=${attrs.subresource}`;
  return `Forbidden (${what})${reason ? `: ${reason}` : ''}`;
}
