// The real KubeApi on @kubernetes/client-node: its KubeConfig does the kubeconfig (server, CA, client
// certificate, token) and its Watch does the streaming; requests are plain JSON over https with the
// options the KubeConfig gives. client-node is ES-module-only: it is loaded with require() here, at
// run time (Node 20.19+ can), and nothing that unit tests import imports this file.
import https from 'node:https';
import http from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { apiStatusSchema } from './api_objects';
import { KubeApi, KubeApiError, KubeObject, RequestOptions, WatchEventType } from './kube_api';

const REQUEST_TIMEOUT_MS = 30_000;

function loadClientNode(): typeof k8s {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@kubernetes/client-node') as typeof k8s;
}

function queryString(query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Loads the kubeconfig file (its current context) into a KubeApi. */
export function loadKubeApi(kubeconfigFile: string): KubeApi & { server: string } {
  const { KubeConfig, Watch } = loadClientNode();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`Cannot use kubeconfig '${kubeconfigFile}': it has no current cluster`);
  const server = cluster.server.replace(/\/$/, '');
  const watcher = new Watch(kc);
  // One https.Agent for every request: client-node makes a new one per call, which never reuses sockets.
  let optionsOnce: Promise<https.RequestOptions> | undefined;
  const baseOptions = () =>
    (optionsOnce ??= (async () => {
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      opts.agent = new https.Agent({ ca: opts.ca, cert: opts.cert, key: opts.key, keepAlive: true });
      return opts;
    })());

  return {
    server,
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const base = await baseOptions();
      const url = new URL(server + path + queryString(options.query));
      const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
      const headers: http.OutgoingHttpHeaders = {
        ...(base.headers as http.OutgoingHttpHeaders),
        accept: 'application/json',
        // Content-Length always: Node sends none for a DELETE body, the server then reads the body
        // as the next request on the kept-alive socket (400) and the DELETE without its options.
        ...(body
          ? { 'content-type': options.contentType ?? 'application/json', 'content-length': body.length }
          : {}),
      };
      const lib = url.protocol === 'http:' ? http : https;
      return new Promise<T>((resolve, reject) => {
        const req = lib.request(url, { ...base, method, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              json = undefined;
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) return resolve(json as T);
            const status = apiStatusSchema.safeParse(json).data;
            reject(
              new KubeApiError(
                code,
                status?.reason ?? '',
                `${method} ${path}: ${code} ${status?.message ?? text.slice(0, 200)}`,
              ),
            );
          });
        });
        req.on('timeout', () =>
          req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
        );
        req.on('error', reject);
        req.end(body);
      });
    },

    watch(path, query, onEvent, done) {
      let aborted = false;
      let controller: AbortController | undefined;
      const finish = (err?: unknown) => {
        if (!aborted) done(err ?? undefined);
        aborted = true;
      };
      watcher
        .watch(
          path,
          query,
          (type: string, object: unknown) => onEvent(type as WatchEventType, object as KubeObject),
          (err: unknown) => finish(err),
        )
        .then((c) => {
          controller = c;
          if (aborted) c.abort();
        })
        .catch(finish);
      return {
        abort() {
          aborted = true;
          controller?.abort();
        },
      };
    },
  };
}
