// /exec, /attach and /portForward: the kubelet asks the runtime for a streaming URL (CRI Exec,
// Attach, PortForward) and PROXIES the client's upgrade to it — it never redirects (server.go,
// proxy.NewUpgradeAwareHandler). The client's request goes on as it came (method, every header, the
// bytes read past it), with the runtime's URL as its target, and the two sockets are piped, so SPDY
// and WebSocket, every protocol version, pass through untouched.
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { KubeletApiCri } from './cri';
import { badRequest } from './http_reply';
import { findContainer, findSandbox, type PodRef } from './resolve';

export type StreamKind = 'exec' | 'attach' | 'portForward';

export interface StreamTarget {
  kind: StreamKind;
  pod: PodRef;
  container?: string;
}

const truthy = (v: string | null) => v === '1' || v === 'true';

/** The runtime's streaming URL for this request (throws HttpError for bad requests and unknown pods). */
export async function streamingUrl(
  cri: KubeletApiCri,
  target: StreamTarget,
  query: URLSearchParams,
): Promise<string> {
  if (target.kind === 'portForward') {
    const sandbox = await findSandbox(cri, target.pod);
    const ports = query.getAll('port').flatMap((p) => p.split(','));
    for (const p of ports)
      if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw badRequest(`invalid port '${p}'`);
    return cri.portForward(sandbox.id, ports.map(Number));
  }
  const container = await findContainer(cri, target.pod, target.container!);
  const tty = truthy(query.get('tty'));
  const stdin = truthy(query.get('input'));
  const stdout = truthy(query.get('output'));
  // A terminal has one output stream: the kubelet drops stderr in tty mode.
  const stderr = truthy(query.get('error')) && !tty;
  if (!stdin && !stdout && !stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (target.kind === 'attach') return cri.attach({ container_id: container.id, stdin, stdout, stderr, tty });
  const cmd = query.getAll('command');
  if (cmd.length === 0) throw badRequest('you must specify a command (command=...)');
  return cri.exec({ container_id: container.id, cmd, stdin, stdout, stderr, tty });
}

/** The client's request line and headers, aimed at `url`, with the client's query when the URL has none. */
export function forwardedRequest(req: http.IncomingMessage, url: URL): string {
  const clientQuery = new URL(req.url ?? '/', 'http://x').search;
  const target = `${url.pathname}${url.search || clientQuery}`;
  const lines = [`${req.method ?? 'GET'} ${target} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    // The runtime's server is not the API: it gets its own Host and none of our credentials.
    if (/^(host|authorization)$/i.test(name)) continue;
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push(`Host: ${url.host}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function dial(url: URL): Promise<Duplex> {
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    // The runtime's URL holds a single-use token on a local link; its certificate, if any, is its own.
    const socket =
      url.protocol === 'https:'
        ? tls.connect({ host, port, rejectUnauthorized: false }, () => resolve(socket))
        : net.connect({ host, port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Forwards an upgrade request to the runtime's streaming server and pipes the two connections. */
export async function proxyUpgrade(
  req: http.IncomingMessage,
  client: Duplex,
  head: Buffer,
  streamUrl: string,
): Promise<void> {
  const url = new URL(streamUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`Cannot proxy to the runtime's streaming URL '${streamUrl}': not http or https`);
  const upstream = await dial(url);
  upstream.write(forwardedRequest(req, url));
  if (head.length > 0) upstream.write(head);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', end);
  client.on('error', end);
  upstream.on('close', end);
  client.on('close', end);
  upstream.pipe(client);
  client.pipe(upstream);
}
