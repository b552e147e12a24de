// The kubelet API of `nodelet agent` (from dist/) on a real runtime: a static pod runs, and a client
// with a certificate signed by the --client-ca-file CA reads /pods, the logs (tail, timestamps,
// follow, previous), /stats/summary and the metrics endpoints, and runs commands through /exec over
// WebSocket (v5), proxied to the runtime's streaming server. Used by one test file per runtime.
import { ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { requireBuilt } from '../../support/daemon';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';

export interface ApiRuntime {
  endpoint: string;
  image: string;
  /** The newest WebSocket exec protocol its streaming server speaks (containerd 1.6 stops at v4). */
  websocketProtocol: 'v5.channel.k8s.io' | 'v4.channel.k8s.io';
  /** Removes every pod left, stops the runtime and deletes what it had. */
  stop(): Promise<void>;
}

const NODE = 'kapi-node';

interface Reply {
  status: number;
  body: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and two client certificates: one it signs (CN test-admin) and one from a stranger CA. */
function makeClientCerts(dir: string) {
  const p = (n: string) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'stranger-ca'])
    openssl([
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      `/CN=${ca}`,
      '-keyout',
      p(`${ca}.key`),
      '-out',
      p(`${ca}.crt`),
    ]);
  for (const [name, ca] of [
    ['client', 'ca'],
    ['stranger', 'stranger-ca'],
  ]) {
    openssl([
      'req',
      ...ec,
      '-subj',
      `/O=system:masters/CN=test-admin`,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p(`${ca}.crt`),
      '-CAkey',
      p(`${ca}.key`),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      p(`${name}.crt`),
    ]);
  }
  return {
    caFile: p('ca.crt'),
    client: { cert: fs.readFileSync(p('client.crt')), key: fs.readFileSync(p('client.key')) },
    stranger: { cert: fs.readFileSync(p('stranger.crt')), key: fs.readFileSync(p('stranger.key')) },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// The runtime copies stdout and stderr with separate readers: the pause before the stderr line keeps
// the order in the log file that the log test expects.
const manifest = (image: string) => `
apiVersion: v1
kind: Pod
metadata: { name: talker, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${image}
      command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; sleep 1; echo oops >&2; exec sleep 3600"]
    - name: ticker
      image: ${image}
      command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done"]
    - name: once
      image: ${image}
      command: ["sh", "-c", "echo attempt $(cat /proc/uptime); sleep 1; exit 1"]
`;

export function kubeletApiScenario(setup: { name: string; start(): Promise<ApiRuntime> }): void {
  const CGROUP_ROOT = `/nodelet-kapi-test-${process.pid}-${setup.name}`;
  const POD = `talker-${NODE}`;
  let runtime: ApiRuntime;
  let dir: string;
  let port: number;
  let certs: ReturnType<typeof makeClientCerts>;
  let agent: ChildProcess | undefined;
  let agentLog = '';

  function get(
    pathname: string,
    tls: { cert: Buffer; key: Buffer } | null = certs.client,
    onChunk?: (text: string, req: () => void) => void,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.get(
        { host: '127.0.0.1', port, path: pathname, ...(tls ?? {}), rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            body += d;
            onChunk?.(body, () => {
              req.destroy();
              resolve({ status: res.statusCode ?? 0, body });
            });
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
    });
  }

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false>,
    timeoutMs = 90_000,
  ): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  interface ExecResult {
    protocol: string;
    channels: Record<number, string>;
  }

  function exec(query: string, send?: (ws: WebSocket) => void): Promise<ExecResult> {
    const url = `wss://127.0.0.1:${port}/exec/default/${POD}/main?${query}`;
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
      ...certs.client,
      rejectUnauthorized: false,
    });
    const channels: Record<number, string> = {};
    ws.on('message', (data: Buffer) => {
      channels[data[0]] = (channels[data[0]] ?? '') + data.subarray(1).toString();
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => send?.(ws));
      ws.once('error', reject);
      ws.once('close', () => resolve({ protocol: ws.protocol, channels }));
    });
  }

  beforeAll(async () => {
    requireBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kapi-'));
    for (const d of ['manifests', 'root', 'logs', 'pki']) fs.mkdirSync(path.join(dir, d));
    certs = makeClientCerts(path.join(dir, 'pki'));
    port = await freePort();
    runtime = await setup.start();
    fs.writeFileSync(path.join(dir, 'manifests', 'talker.yaml'), manifest(runtime.image));
    agent = spawnAgent(
      { dir, endpoint: runtime.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
      ['--address', '127.0.0.1', '--port', String(port), '--client-ca-file', certs.caFile],
      (chunk) => (agentLog += chunk),
    );
    await waitFor('the kubelet API', async () => (await get('/healthz')).status === 200);
    // every test below needs the pod's containers running
    await waitFor('the pod to run', async () => {
      const items: { status?: { phase?: string } }[] = JSON.parse((await get('/pods')).body).items;
      return items[0]?.status?.phase === 'Running';
    });
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      fs.rmSync(path.join(dir, 'manifests', 'talker.yaml'), { force: true });
      await waitFor(
        'the pod to go',
        async () => JSON.parse((await get('/pods')).body).items.length === 0,
        60_000,
      ).catch(() => undefined);
      await stopAgent(agent);
    }
    await runtime?.stop();
    if (dir) await unmountUnder(dir);
    removeCgroupTree(CGROUP_ROOT);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('only a client certificate signed by the client CA gets in', async () => {
    expect((await get('/healthz')).body).toBe('ok');
    const anonymous = await get('/pods', null);
    expect(anonymous.status).toBe(401);
    expect((await get('/pods', certs.stranger)).status).toBe(401);
    expect((await get('/no/such/path')).status).toBe(404);
  });

  test('/pods lists the static pod with its running status', async () => {
    const pod = await waitFor('the pod to run', async () => {
      const list = JSON.parse((await get('/pods')).body);
      const p = list.items.find((i: { metadata: { name: string } }) => i.metadata.name === POD);
      return p?.status?.phase === 'Running' ? p : undefined;
    });
    expect(pod).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { namespace: 'default' } });
    expect(pod.status.containerStatuses.map((c: { name: string }) => c.name).sort()).toEqual([
      'main',
      'once',
      'ticker',
    ]);
  });

  test('/containerLogs gives the last lines, with timestamps when asked, and 404 for an unknown container', async () => {
    const logs = `/containerLogs/default/${POD}/main`;
    await waitFor('the lines', async () => (await get(logs)).body.includes('oops'));
    expect((await get(logs)).body).toBe('line 1\nline 2\nline 3\nline 4\nline 5\noops\n');
    expect((await get(`${logs}?tailLines=2`)).body).toBe('line 5\noops\n');
    expect((await get(`${logs}?tailLines=2&stream=stdout`)).body).toBe('line 5\n');
    const stamped = (await get(`${logs}?timestamps=true&tailLines=1`)).body;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) oops\n$/);
    expect((await get(`${logs}?limitBytes=4`)).body).toBe('line');
    const missing = await get(`/containerLogs/default/${POD}/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: 'Status', code: 404 });
  });

  test('/containerLogs?follow=true streams new lines until the client closes', async () => {
    const seen = await get(
      `/containerLogs/default/${POD}/ticker?follow=true&tailLines=1`,
      certs.client,
      (body, stop) => {
        if (body.split('\n').length > 3) stop();
      },
    );
    const ticks = seen.body
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split(' ')[1]));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks[1]).toBe(ticks[0] + 1);
    // the agent is still serving after the client went away
    expect((await get('/healthz')).status).toBe(200);
  });

  test('/containerLogs?previous=true shows the attempt before a restart', async () => {
    const logs = `/containerLogs/default/${POD}/once`;
    const previous = await waitFor('a previous attempt', async () => {
      const r = await get(`${logs}?previous=true`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(previous).toMatch(/^attempt \d/);
    expect((await get(`/containerLogs/default/${POD}/main?previous=true`)).status).toBe(404);
  });

  test('/stats/summary has the node and the pod with its containers usage', async () => {
    const summary = await waitFor('container stats', async () => {
      const s = JSON.parse((await get('/stats/summary')).body);
      const pod = s.pods.find((p: { podRef: { name: string } }) => p.podRef.name === POD);
      return pod?.containers.some((c: { name: string }) => c.name === 'ticker') ? s : undefined;
    });
    expect(summary.node.nodeName).toBe(NODE);
    expect(summary.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(summary.node.memory.workingSetBytes).toBeGreaterThan(0);
    const pod = summary.pods.find((p: { podRef: { name: string } }) => p.podRef.name === POD);
    expect(pod.podRef.namespace).toBe('default');
    const ticker = pod.containers.find((c: { name: string }) => c.name === 'ticker');
    expect(ticker.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(ticker.memory.workingSetBytes).toBeGreaterThan(0);
    expect(pod.memory.workingSetBytes).toBeGreaterThan(0);
  });

  test('/metrics has the agent runtime operations, running pods, pod start, worker and relist durations', async () => {
    const text = await waitFor('a pod start observed', async () => {
      const body = (await get('/metrics')).body;
      return /kubelet_pod_start_duration_seconds_count 1/.test(body) ? body : undefined;
    });
    expect(text).toMatch(
      /kubelet_runtime_operations_duration_seconds_bucket\{le="[^"]+",operation_type="run_podsandbox"\}/,
    );
    expect(text).toMatch(/kubelet_runtime_operations_total\{operation_type="create_container"\} [1-9]/);
    expect(text).toMatch(/^kubelet_running_pods 1$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="running"\} [1-9]/m);
    // Fed by the pod worker: its first sync of the pod is a create, each look at the runtime a relist.
    expect(text).toMatch(/^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} [1-9]/m);
    expect(text).toMatch(/^kubelet_pod_worker_duration_seconds_count\{operation_type="sync"\} [1-9]/m);
    expect(text).toMatch(/^kubelet_pleg_relist_duration_seconds_count [1-9]/m);
  });

  test('/metrics/resource and /metrics/cadvisor have the containers series', async () => {
    const resource = (await get('/metrics/resource')).body;
    expect(resource).toMatch(/^node_cpu_usage_seconds_total [\d.e+]+ \d+$/m);
    expect(resource).toContain(
      `container_memory_working_set_bytes{container="ticker",namespace="default",pod="${POD}"}`,
    );
    expect(resource).toMatch(/^resource_scrape_error 0$/m);
    const cadvisor = (await get('/metrics/cadvisor')).body;
    expect(cadvisor).toMatch(new RegExp(`container_cpu_usage_seconds_total\\{[^}]*pod="${POD}"`));
  });

  test('/exec over WebSocket runs a command in the container and reports its exit code', async () => {
    const r = await exec(
      'command=sh&command=-c&command=echo%20out;%20echo%20err%20>%262;%20exit%203&output=1&error=1',
    );
    // the agent passes the client's offer through: the runtime picks
    expect(r.protocol).toBe(runtime.websocketProtocol);
    expect(r.channels[1]).toBe('out\n');
    expect(r.channels[2]).toBe('err\n');
    expect(JSON.parse(r.channels[3])).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  test('/exec passes stdin through (ended by the v5 close signal where the runtime has v5)', async () => {
    const v5 = runtime.websocketProtocol === 'v5.channel.k8s.io';
    // v4 cannot half-close stdin, so there the command ends on its own after one line
    const query = v5 ? 'command=cat&input=1&output=1' : 'command=head&command=-n&command=1&input=1&output=1';
    const r = await exec(query, (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('through the agent\n')]));
      if (v5) ws.send(Buffer.from([255, 0]));
    });
    expect(r.channels[1]).toBe('through the agent\n');
  });

  test('/exec without an upgrade is refused, and an unknown pod is 404', async () => {
    expect((await get(`/exec/default/${POD}/main?command=true&output=1`)).status).toBe(400);
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(
          `wss://127.0.0.1:${port}/exec/default/nope/main?command=true&output=1`,
          ['v5.channel.k8s.io'],
          {
            ...certs.client,
            rejectUnauthorized: false,
          },
        );
        ws.once('open', resolve);
        ws.once('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
        ws.once('error', reject);
      }),
    ).rejects.toThrow('404');
  });
}
