// nodelet scraped by Debian's real Prometheus with the shipped configuration, alert rules and
// dashboard: what an operator who follows manifests/monitoring gets.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { MetricsServer, startMetricsServer, writeCadvisorMetrics } from '../../../src/metrics';
import { syntheticEntries } from '../../../src/metrics/fixtures.testutil';
import { criClient, TestCriClient } from '../../support/cri_client';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';
import {
  eventually,
  freePort,
  MONITORING_DIR,
  PROMTOOL_BIN,
  startPrometheus,
  TestPrometheus,
} from './prometheus_harness';

type Vector = { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
let registry: TestRegistry | undefined;
let daemon: TestDaemon | undefined;
let logDir = '';
let cri: TestCriClient | undefined;
let prom: TestPrometheus | undefined;
let traffic: NodeJS.Timeout | undefined;
let metricsAddress = '';
// cAdvisor-style metrics of synthetic containers, served from this process until containers run.
let synthetic: MetricsServer | undefined;
const SYNTHETIC = syntheticEntries(100, 2);

beforeAll(async () => {
  metricsAddress = `127.0.0.1:${await freePort()}`;
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({
    args: ['--metrics-address', metricsAddress],
    config: { registry: registry.mirrorConfig() },
    timeoutMs: 30_000,
  });
  cri = criClient(daemon.endpoint);
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-promlogs-'));
  // Two real containers: one that burns CPU, one that sleeps.
  await cri.image('PullImage', { image: { image: IMAGE } }, 120_000);
  await runContainer('busy', ['sh', '-c', 'while :; do :; done']);
  await runContainer('idle', ['sleep', '3600']);
  // A steady trickle of requests, so that rates between scrapes are not zero.
  const versions = cri;
  traffic = setInterval(
    () => void versions.runtime('Version', { version: 'v1' }).catch(() => undefined),
    100,
  );
  synthetic = await startMetricsServer('127.0.0.1:0', new client.Registry(), () => true, {
    collectors: [() => writeCadvisorMetrics(SYNTHETIC)],
  });
  prom = await startPrometheus(metricsAddress, [{ job: 'synthetic-containers', target: synthetic.address }]);
});

afterAll(async () => {
  clearInterval(traffic);
  await prom?.stop();
  await synthetic?.close();
  // Pods first: their pinned namespaces and /dev/shm are mounts under the daemon's root.
  if (cri) {
    const { items } = await cri.runtime<{ items: { id: string }[] }>('ListPodSandbox', {});
    for (const pod of items) await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000);
  }
  cri?.close();
  await daemon?.stop();
  await daemon?.cleanup();
  await registry?.stop();
  if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
});

async function runContainer(name: string, command: string[]): Promise<string> {
  const podConfig = {
    metadata: { name: `${name}-pod`, namespace: 'metrics', uid: `uid-${name}`, attempt: 0 },
    log_directory: logDir,
    linux: {},
  };
  const { pod_sandbox_id: pod } = await cri!.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  );
  const { container_id: id } = await cri!.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: { metadata: { name }, image: { image: IMAGE }, command, log_path: `${name}.log`, linux: {} },
      sandbox_config: podConfig,
    },
    60_000,
  );
  await cri!.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function query(expr: string) {
  return prom!.api<Vector>('query', { query: expr });
}

/** Grafana replaces its variables before a query reaches Prometheus; do the same. */
function asGrafanaSends(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m').replace(/\$\{?instance\}?/g, '.*');
}

describe('nodelet scraped by a real Prometheus', () => {
  test('the shipped configuration and alert rules pass promtool, and the alerts fire as their tests say', () => {
    for (const args of [
      ['check', 'config', path.join(MONITORING_DIR, 'prometheus.yml')],
      ['check', 'rules', path.join(MONITORING_DIR, 'nodelet-alerts.yml')],
      ['test', 'rules', path.join(MONITORING_DIR, 'nodelet-alerts.test.yml')],
    ]) {
      const run = spawnSync(PROMTOOL_BIN, args, { encoding: 'utf8' });
      expect({ args, status: run.status, out: run.stdout + run.stderr }).toMatchObject({ status: 0 });
    }
  });

  test('serves /healthz and /metrics on the configured address', async () => {
    const health = await fetch(`http://${metricsAddress}/healthz`);
    expect(health.status).toBe(200);
    const body = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    expect(body).toContain('nodelet_cri_request_duration_seconds_bucket{');
    expect(body).toContain('nodelet_process_open_fds ');
  });

  test('Prometheus scrapes nodelet and sees it up', async () => {
    const up = await eventually('up{job="nodelet"} == 1', async () => {
      const r = await query('up{job="nodelet"}');
      return r.data.result.find((s) => s.value[1] === '1');
    });
    expect(up.metric.instance).toBe(metricsAddress);
  });

  test('an RPC latency quantile from nodelet_cri_request_duration_seconds_bucket returns a series', async () => {
    const expr =
      'histogram_quantile(0.99, sum by (method, le) (rate(nodelet_cri_request_duration_seconds_bucket{method="Version"}[30s])))';
    const series = await eventually('a finite p99 latency of Version', async () => {
      const r = await query(expr);
      expect(r.status).toBe('success');
      return r.data.result.find((s) => Number.isFinite(Number(s.value[1])));
    });
    expect(series.metric.method).toBe('Version');
    expect(Number(series.value[1])).toBeGreaterThan(0);
  });

  test('every PromQL expression of the Grafana dashboard is accepted by Prometheus', async () => {
    const dashboard = JSON.parse(
      fs.readFileSync(path.join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8'),
    );
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(15);
    const refused: string[] = [];
    for (const expr of exprs) {
      const r = await query(asGrafanaSends(expr));
      if (r.status !== 'success') refused.push(`${expr}: ${r.error}`);
    }
    expect(refused).toEqual([]);
  });

  test('the alert rules are loaded and evaluate without errors', async () => {
    type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    const rules = await eventually('every rule evaluated', async () => {
      const r = await prom!.api<Rules>('rules');
      const all = r.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((rule) => rule.health !== 'unknown') ? all : undefined;
    });
    expect(rules.map((r) => r.name).sort()).toEqual([
      'ContainerOOMKilled',
      'NodeletCriErrorRate',
      'NodeletDown',
      'NodeletSlowContainerStarts',
    ]);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
  });

  test('Prometheus ingests the cAdvisor-style exposition of 200 containers and the dashboard reads it', async () => {
    const expr = 'count(container_memory_working_set_bytes{job="synthetic-containers", container!=""})';
    const count = await eventually('the synthetic containers scraped', async () => {
      const r = await query(expr);
      return r.data.result[0]?.value[1];
    });
    expect(Number(count)).toBe(200);
    // A rate needs two scrapes of the same series.
    const cpu = await eventually('a container CPU rate', async () => {
      const r = await query(
        'sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{job="synthetic-containers", container!=""}[1m]))',
      );
      expect(r.status).toBe('success');
      return r.data.result.length > 0 ? r.data.result : undefined;
    });
    expect(cpu).toHaveLength(200);
  });

  test('the CPU of a running container is queryable as a rate of container_cpu_usage_seconds_total', async () => {
    // A rate over [1m] needs two scrapes of the container's series.
    const busy = await eventually(
      'a CPU rate of the busy container',
      async () => {
        const r = await query('rate(container_cpu_usage_seconds_total{job="nodelet", container="busy"}[1m])');
        expect(r.status).toBe('success');
        return r.data.result.find((s) => Number(s.value[1]) > 0);
      },
      60_000,
    );
    expect(busy.metric).toMatchObject({ container: 'busy', pod: 'busy-pod', namespace: 'metrics' });
    // CPU seconds per second: the loop's share of a shared machine, never more than its cores.
    expect(Number(busy.value[1])).toBeLessThanOrEqual(os.cpus().length * 1.05);
    const idle = await eventually('a CPU rate of the idle container', async () => {
      const r = await query('rate(container_cpu_usage_seconds_total{job="nodelet", container="idle"}[1m])');
      return r.data.result[0];
    });
    expect(Number(idle.value[1])).toBeLessThan(Number(busy.value[1]));
  });
});
