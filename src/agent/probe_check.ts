// One probe or hook action against a container: exec (CRI ExecSync), httpGet, tcpSocket, grpc
// (grpc.health.v1.Health/Check) or sleep. Each answers success or failure with a reason; none throws.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { CriRuntime } from './cri_client';
import type { Container } from './pod_spec';

export interface ProbeTarget {
  containerId: string;
  container: Container;
  podIP: string;
}

export interface CheckResult {
  ok: boolean;
  message: string;
  /** What an exec check printed, as the kubelet puts it in an Unhealthy event. */
  output?: string;
}

export interface ProbeAction {
  exec?: { command: string[] };
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: 'HTTP' | 'HTTPS';
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  sleep?: { seconds: number };
}

/** A named port ("http") resolves through the container's ports, as the kubelet does. */
export function resolvePort(port: number | string, c: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`no port named '${port}' in container '${c.name}'`);
  return named.containerPort;
}

function httpCheck(
  action: NonNullable<ProbeAction['httpGet']>,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<CheckResult> {
  const lib = action.scheme === 'HTTPS' ? https : http;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.36', Accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const req = lib.request(
      {
        host: action.host ?? t.podIP,
        port: resolvePort(action.port, t.container),
        path: action.path ?? '/',
        method: 'GET',
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: false, // the kubelet does not verify probe certificates either
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, message: `Get: ${err.message}` }));
    req.end();
  });
}

function tcpCheck(
  action: NonNullable<ProbeAction['tcpSocket']>,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<CheckResult> {
  return new Promise((resolve) => {
    const port = resolvePort(action.port, t.container);
    const socket = net.connect({ host: action.host ?? t.podIP, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.once('timeout', () => socket.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    socket.once('error', (err) => resolve({ ok: false, message: `dial tcp ${port}: ${err.message}` }));
  });
}

/** grpc.health.v1 by hand: request field 1 is the service name; response field 1 is the status (1 = SERVING). */
function grpcCheck(
  action: NonNullable<ProbeAction['grpc']>,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<CheckResult> {
  const service = Buffer.from(action.service ?? '');
  const request =
    service.length > 0 ? Buffer.concat([Buffer.from([0x0a, service.length]), service]) : Buffer.alloc(0);
  const client = new grpc.Client(`${t.podIP}:${action.port}`, grpc.credentials.createInsecure());
  return new Promise<CheckResult>((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      { deadline: Date.now() + timeoutMs },
      (err, res) => {
        if (err) return resolve({ ok: false, message: `rpc error: ${err.details || err.message}` });
        const status = res && res.length >= 2 && res[0] === 0x08 ? res[1] : 0;
        resolve({ ok: status === 1, message: `service unhealthy (responded with status ${status})` });
      },
    );
  }).finally(() => client.close());
}

export async function runCheck(
  cri: CriRuntime,
  action: ProbeAction,
  t: ProbeTarget,
  timeoutS: number,
): Promise<CheckResult> {
  const timeoutMs = timeoutS * 1000;
  try {
    if (action.exec) {
      const res = await cri.execSync({
        container_id: t.containerId,
        cmd: action.exec.command,
        timeout: timeoutS,
      });
      const out = Buffer.concat([res.stdout ?? Buffer.alloc(0), res.stderr ?? Buffer.alloc(0)]).toString();
      return {
        ok: res.exit_code === 0,
        message: `command exited with ${res.exit_code}: ${out.trim().slice(0, 200)}`,
        output: out,
      };
    }
    if (action.httpGet) return await httpCheck(action.httpGet, t, timeoutMs);
    if (action.tcpSocket) return await tcpCheck(action.tcpSocket, t, timeoutMs);
    if (action.grpc) return await grpcCheck(action.grpc, t, timeoutMs);
    if (action.sleep) {
      await new Promise((r) => setTimeout(r, action.sleep!.seconds * 1000));
      return { ok: true, message: '' };
    }
    return { ok: false, message: 'the probe has no action' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
