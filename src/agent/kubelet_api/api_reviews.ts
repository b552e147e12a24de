// Webhook authentication and authorization against the API server (the kubelet's
// --authentication-token-webhook and --authorization-mode=Webhook): a TokenReview for bearer tokens
// and a SubjectAccessReview per request, cached as the kubelet caches them (2 min for tokens, 5 min
// for allowed and 30 s for denied decisions) so a busy `kubectl logs -f` does not ask every time.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseWith } from '../../common/schema';
import type { Authorizer, RequestAttributes, TokenReviewer, UserInfo } from './auth';

export interface ApiConnection {
  server: string;
  ca?: Buffer;
  insecure?: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

interface NamedEntry<T> {
  name: string;
  [key: string]: T | string;
}

/** The current context's server and credentials from a kubeconfig file (paths relative to the file). */
export function readKubeconfig(file: string): ApiConnection {
  const doc = parse(fs.readFileSync(file, 'utf8')) ?? {};
  const dir = path.dirname(file);
  const pick = <T>(list: NamedEntry<T>[] | undefined, name: string | undefined, key: string): T => {
    const found = (list ?? []).find((e) => e.name === name) ?? (list ?? [])[0];
    if (!found) throw new Error(`Cannot read kubeconfig '${file}': no ${key} '${name ?? ''}'`);
    return found[key] as T;
  };
  const ctx = pick<{ cluster?: string; user?: string }>(doc.contexts, doc['current-context'], 'context');
  const cluster = pick<Record<string, string | boolean>>(doc.clusters, ctx?.cluster, 'cluster');
  const user = pick<Record<string, string>>(doc.users, ctx?.user, 'user') ?? {};
  const data = (inline: unknown, ref: unknown): Buffer | undefined => {
    if (typeof inline === 'string') return Buffer.from(inline, 'base64');
    if (typeof ref === 'string') return fs.readFileSync(path.resolve(dir, ref));
    return undefined;
  };
  const tokenFile = user.tokenFile
    ? fs.readFileSync(path.resolve(dir, user.tokenFile), 'utf8').trim()
    : undefined;
  return {
    server: String(cluster.server),
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    token: user.token ?? tokenFile,
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
  };
}

/** The answers the API server gives to a TokenReview and a SubjectAccessReview: parsed, not cast. */
const tokenReviewSchema = z.object({
  status: z
    .object({
      authenticated: z.boolean().optional(),
      user: z
        .object({
          username: z.string().optional(),
          uid: z.string().optional(),
          groups: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
});
const accessReviewSchema = z.object({
  status: z.object({ allowed: z.boolean().optional(), reason: z.string().optional() }).optional(),
});

function post<S extends z.ZodTypeAny>(
  conn: ApiConnection,
  apiPath: string,
  body: unknown,
  schema: S,
): Promise<z.output<S>> {
  const url = new URL(apiPath, conn.server);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca: conn.ca,
        cert: conn.cert,
        key: conn.key,
        rejectUnauthorized: !conn.insecure,
        timeout: 10_000,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...(conn.token ? { Authorization: `Bearer ${conn.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const reply = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 500) >= 300)
            reject(new Error(`Cannot POST '${url.pathname}': ${res.statusCode} ${reply.slice(0, 300)}`));
          else {
            try {
              const what = `the answer to POST '${url.pathname}'`;
              resolve(
                parseWith(schema, JSON.parse(reply), (issues) => new Error(`Cannot read ${what}: ${issues}`)),
              );
            } catch (err) {
              reject(
                err instanceof SyntaxError
                  ? new Error(`Cannot POST '${url.pathname}': the answer is not JSON`)
                  : err,
              );
            }
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Cannot POST '${url.pathname}': timed out`)));
    req.on('error', reject);
    req.end(text);
  });
}

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e && e.until > Date.now()) return e.value;
    this.entries.delete(key);
    return undefined;
  }
  set(key: string, value: V, ttlMs: number): void {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + ttlMs });
  }
}

export function webhookTokenReviewer(conn: ApiConnection): TokenReviewer {
  const cache = new TtlCache<UserInfo | null>();
  return {
    async reviewToken(token) {
      const hit = cache.get(token);
      if (hit !== undefined) return hit ?? undefined;
      const review = await post(
        conn,
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        tokenReviewSchema,
      );
      const u = review.status?.authenticated ? review.status.user : undefined;
      const user = u?.username ? { name: u.username, uid: u.uid, groups: u.groups ?? [] } : undefined;
      cache.set(token, user ?? null, 120_000);
      return user;
    },
  };
}

export function webhookAuthorizer(conn: ApiConnection): Authorizer {
  const cache = new TtlCache<{ allowed: boolean; reason?: string }>();
  return {
    async authorize(user: UserInfo, attrs: RequestAttributes) {
      const key = JSON.stringify([user.name, user.groups, attrs.verb, attrs.subresource, attrs.name]);
      const hit = cache.get(key);
      if (hit) return hit;
      const review = await post(
        conn,
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.name,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: {
              verb: attrs.verb,
              resource: attrs.resource,
              subresource: attrs.subresource,
              name: attrs.name,
            },
          },
        },
        accessReviewSchema,
      );
      const decision = { allowed: review.status?.allowed === true, reason: review.status?.reason };
      cache.set(key, decision, decision.allowed ? 300_000 : 30_000);
      return decision;
    },
  };
}
