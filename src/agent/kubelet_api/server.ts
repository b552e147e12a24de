// The kubelet API server (port 10250): HTTPS, every request authenticated (client certificate,
// reviewed bearer token, or anonymous when allowed) and authorized on nodes/<subresource> before
// it is routed, as the kubelet's auth filter does. Streams are proxied to the runtime.
import { checkpointContainer } from './checkpoint';
import * as grpc from '@grpc/grpc-js';
import type http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log';
import { runInBackground } from '../../common/background';
import { messageOf } from '../../common/errors';
import { hasGrpcCode } from '../cri_client';
import {
  authenticate,
  forbiddenMessage,
  requestAttributes,
  type AuthenticationOptions,
  type Authorizer,
  type UserInfo,
} from './auth';
import { cadvisorMetrics } from './cadvisor_metrics';
import { serveContainerLogs } from './container_logs';
import type { KubeletApiCri } from './cri';
import { HttpError, rawStatus, sendJson, sendStatus, sendText } from './http_reply';
import { CpuRates, procReaders, type NodeReaders } from './node_stats';
import { PROM_CONTENT_TYPE } from './prom_text';
import { resourceMetrics } from './resource_metrics';
import { runningPods } from './running_pods';
import { matchRoute, type Route } from './routes';
import { proxyUpgrade, streamingUrl } from './streams';
import { buildSummary, type SummaryContext } from './summary';

export interface KubeletApiOptions {
  /** Listen address ('0.0.0.0' like the kubelet; tests use 127.0.0.1) and port (0 picks a free one). */
  address: string;
  port: number;
  nodeName: string;
  cri: KubeletApiCri;
  /** The pods this node runs, as v1.Pod objects with their status (for /pods). */
  pods: () => unknown[];
  /** The agent's own registry, served on /metrics. */
  registry: Registry;
  /** The probers' registry, served on /metrics/probes (apart from /metrics, as the kubelet does). */
  probeRegistry: Registry;
  /** What /configz answers: {"kubeletconfig": {...}} (see configz.ts). */
  configz: unknown;
  tls: { cert: Buffer | string; key: Buffer | string };
  /** CA bundle that signs trusted client certificates (--client-ca-file). */
  clientCa?: Buffer | string;
  authentication: Omit<AuthenticationOptions, 'x509'>;
  authorizer: Authorizer;
  log: Logger;
  readers?: NodeReaders;
  /** The agent's root dir: checkpoint archives go to its checkpoints/ (the kubelet's /var/lib/kubelet). */
  rootDir?: string;
}

export interface KubeletApi {
  address: string;
  port: number;
  /** Serves a new certificate from the next handshake on (a rotated serving certificate). */
  setServingCert(tls: { cert: Buffer | string; key: Buffer | string }): void;
  close(): Promise<void>;
}

function bootTime(): string {
  return new Date(Date.now() - os.uptime() * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export async function startKubeletApi(options: KubeletApiOptions): Promise<KubeletApi> {
  const { log } = options;
  const authn: AuthenticationOptions = { ...options.authentication, x509: !!options.clientCa };
  const summaryCtx: SummaryContext = {
    cri: options.cri,
    nodeName: options.nodeName,
    nodeStartTime: bootTime(),
    readers: options.readers ?? procReaders,
    rates: new CpuRates(),
  };
  const sockets = new Set<net.Socket>();

  /** Who asks and may they; throws HttpError 401/403. */
  async function admit(req: http.IncomingMessage, pathname: string): Promise<UserInfo> {
    const user = await authenticate(req, authn);
    if (!user) throw new HttpError(401, 'Unauthorized');
    // As the kubelet: the narrow subresource first, then the coarse one; one allowed is enough.
    const tried = requestAttributes(req.method ?? 'GET', pathname, options.nodeName);
    let reason: string | undefined;
    for (const attrs of tried) {
      const decision = await options.authorizer.authorize(user, attrs);
      if (decision.allowed) return user;
      reason = decision.reason ?? reason;
    }
    throw new HttpError(403, forbiddenMessage(user, tried, reason));
  }

  function statusOf(err: unknown): number {
    if (err instanceof HttpError) return err.status;
    if (hasGrpcCode(err, grpc.status.NOT_FOUND)) return 404;
    if (hasGrpcCode(err, grpc.status.INVALID_ARGUMENT)) return 400;
    return 500;
  }

  async function serve(route: Route, url: URL, res: http.ServerResponse): Promise<void> {
    switch (route.kind) {
      case 'healthz':
        return sendText(res, 200, 'ok', 'text/plain; charset=utf-8');
      case 'pods':
        return sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: options.pods() });
      case 'runningPods':
        return sendJson(res, 200, await runningPods(options.cri));
      case 'containerLogs':
        return serveContainerLogs(options.cri, route.pod, route.container, url.searchParams, res);
      case 'exec':
      case 'attach':
      case 'portForward':
        throw new HttpError(400, 'Upgrade request required');
      case 'summary':
        return sendJson(res, 200, await buildSummary(summaryCtx));
      case 'metrics':
        return sendText(res, 200, await options.registry.metrics(), options.registry.contentType);
      case 'metricsProbes':
        return sendText(res, 200, await options.probeRegistry.metrics(), options.probeRegistry.contentType);
      case 'configz':
        return sendJson(res, 200, options.configz);
      case 'metricsCadvisor':
        return sendText(res, 200, await cadvisorMetrics(options.cri), PROM_CONTENT_TYPE);
      case 'metricsResource': {
        const summary = await buildSummary(summaryCtx).catch((err) => {
          log.warn({ err: messageOf(err) }, 'cannot read stats for /metrics/resource');
          return undefined;
        });
        return sendText(res, 200, resourceMetrics(summary), PROM_CONTENT_TYPE);
      }
      case 'checkpoint': {
        if (!options.rootDir) throw new HttpError(501, 'Cannot checkpoint: the agent has no root dir');
        const made = await checkpointContainer(
          options.cri,
          options.rootDir,
          route.pod,
          route.container,
          url.searchParams,
        );
        return sendJson(res, 200, made);
      }
      case 'notImplemented':
        throw new HttpError(501, `Cannot serve ${route.what}: not implemented in nodelet's agent`);
    }
  }

  async function onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    try {
      await admit(req, url.pathname);
      const route = matchRoute(req.method ?? 'GET', url.pathname);
      if (route === undefined) throw new HttpError(404, `404 page not found: ${url.pathname}`);
      if (route === 'method')
        throw new HttpError(405, `Cannot ${req.method} ${url.pathname}: method not allowed`);
      await serve(route, url, res);
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) log.error({ path: url.pathname, err: messageOf(err) }, 'kubelet API request failed');
      sendStatus(res, status, messageOf(err));
    }
  }

  async function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    // A client that resets while we ask the runtime must not take the agent down.
    socket.on('error', (err) => log.debug({ err: messageOf(err) }, 'kubelet API stream client error'));
    try {
      await admit(req, url.pathname);
      const route = matchRoute(req.method ?? 'GET', url.pathname);
      if (route === undefined || route === 'method')
        throw new HttpError(404, `404 page not found: ${url.pathname}`);
      if (route.kind !== 'exec' && route.kind !== 'attach' && route.kind !== 'portForward')
        throw new HttpError(400, `Cannot upgrade ${url.pathname}: only exec, attach and portForward stream`);
      const target = await streamingUrl(
        options.cri,
        { kind: route.kind, pod: route.pod, container: 'container' in route ? route.container : undefined },
        url.searchParams,
      );
      log.debug({ path: url.pathname, target: target.replace(/\/[^/]+$/, '/…') }, 'proxying stream');
      await proxyUpgrade(req, socket, head, target);
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) log.error({ path: url.pathname, err: messageOf(err) }, 'kubelet API stream failed');
      socket.end(rawStatus(status, messageOf(err)));
    }
  }

  const server = https.createServer({
    cert: options.tls.cert,
    key: options.tls.key,
    ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  });
  server.on('request', (req, res) => runInBackground(log, `serve ${req.url}`, onRequest(req, res)));
  server.on('upgrade', (req, socket, head) =>
    runInBackground(log, `serve the stream ${req.url}`, onUpgrade(req, socket, head)),
  );
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (err) =>
    log.debug({ err: messageOf(err) }, 'kubelet API TLS handshake failed'),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  log.info({ address: bound.address, port: bound.port }, 'kubelet API listening');
  return {
    address: bound.address,
    port: bound.port,
    setServingCert: (tls) =>
      server.setSecureContext({
        cert: tls.cert,
        key: tls.key,
        ...(options.clientCa ? { ca: options.clientCa } : {}),
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Followed logs and proxied streams never end on their own.
        for (const s of sockets) s.destroy();
      }),
  };
}
