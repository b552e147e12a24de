import client from 'prom-client';
import { NodeletError } from '../common/errors';
import { createRuntimeMetrics } from './runtime';
import { reasonLabel } from './reason';
import { fullSample } from './fixtures.testutil';

function setup() {
  const registry = new client.Registry();
  return { registry, metrics: createRuntimeMetrics(registry) };
}

describe('RuntimeMetrics', () => {
  test('every instrument is defined before anything is recorded, so dashboards find their names', async () => {
    const { registry } = setup();
    const text = await registry.metrics();
    for (const name of [
      'nodelet_cri_request_duration_seconds',
      'nodelet_cri_requests_in_flight',
      'nodelet_container_start_duration_seconds',
      'nodelet_container_start_failures_total',
      'nodelet_image_pull_duration_seconds',
      'nodelet_image_pull_bytes_total',
      'nodelet_image_pull_failures_total',
      'nodelet_layer_unpack_duration_seconds',
      'nodelet_cni_operation_duration_seconds',
      'nodelet_cni_operation_failures_total',
      'nodelet_init_start_duration_seconds',
      'nodelet_monitor_restarts_total',
      'nodelet_monitor_adopted_containers_total',
      'nodelet_recovery_swept_total',
      'nodelet_pods',
      'nodelet_containers',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  test('recording functions show up as series with their labels', async () => {
    const { registry, metrics } = setup();
    metrics.rpc.started('Version');
    metrics.rpc.finished('Version', 'OK', 0.002);
    metrics.containerStart.succeeded(0.12);
    metrics.containerStart.failed(new NodeletError('FailedPrecondition', 'Cannot start container'));
    metrics.imagePull.observe({ seconds: 3, bytes: 1000 });
    metrics.imagePull.failed('manifest unknown');
    metrics.layerUnpack.observe(0.5, 'zstd');
    metrics.cni.observe('setup', 0.05);
    metrics.cni.failed('teardown', Object.assign(new Error('Cannot remove veth'), { code: 'ENOENT' }));
    metrics.initStart.observe('pool', 0.003);
    metrics.monitor.restarted();
    metrics.monitor.adopted(4);
    metrics.recovery.swept('network');
    const text = await registry.metrics();
    expect(text).toContain('nodelet_cri_request_duration_seconds_count{method="Version",code="OK"} 1');
    expect(text).toContain('nodelet_cri_requests_in_flight{method="Version"} 0');
    expect(text).toContain('nodelet_container_start_duration_seconds_count 1');
    expect(text).toContain('nodelet_container_start_failures_total{reason="FailedPrecondition"} 1');
    expect(text).toContain('nodelet_image_pull_bytes_total 1000');
    expect(text).toContain('nodelet_image_pull_failures_total{reason="manifest_unknown"} 1');
    expect(text).toContain('nodelet_layer_unpack_duration_seconds_count{compression="zstd"} 1');
    expect(text).toContain('nodelet_cni_operation_duration_seconds_count{operation="setup"} 1');
    expect(text).toContain('nodelet_cni_operation_failures_total{operation="teardown",reason="ENOENT"} 1');
    expect(text).toContain('nodelet_init_start_duration_seconds_count{source="pool"} 1');
    expect(text).toContain('nodelet_monitor_restarts_total 1');
    expect(text).toContain('nodelet_monitor_adopted_containers_total 4');
    expect(text).toContain('nodelet_recovery_swept_total{kind="network"} 1');
  });

  test('pods and containers by state are read from the workload source at each scrape, zeros included', async () => {
    const { registry, metrics } = setup();
    expect(await registry.metrics()).not.toMatch(/^nodelet_pods\{/m);
    let running = 2;
    metrics.setWorkload({
      countPods: () => ({ ready: 1 }),
      countContainers: () => ({ running, exited: 1 }),
    });
    let text = await registry.metrics();
    expect(text).toContain('nodelet_pods{state="ready"} 1');
    expect(text).toContain('nodelet_pods{state="notready"} 0');
    expect(text).toContain('nodelet_containers{state="running"} 2');
    running = 0;
    text = await registry.metrics();
    expect(text).toContain('nodelet_containers{state="running"} 0');
  });

  test('container metrics are empty until a stats source is set, then come from it', () => {
    const { metrics } = setup();
    expect(metrics.containerMetrics().toString()).toBe('');
    const entry = {
      id: 'c1',
      name: 'app',
      podId: 'p1',
      pod: 'web',
      namespace: 'ns',
      image: 'img',
      sample: fullSample(),
    };
    metrics.setContainerStats({ list: () => [entry] });
    expect(metrics.containerMetrics().toString()).toContain('container_memory_rss{container="app"');
  });
});

describe('reasonLabel', () => {
  test('reduces errors to their kind or errno name and strings to a short word, so label values stay few', () => {
    expect(reasonLabel(new NodeletError('NotFound', 'Cannot find image "x"'))).toBe('NotFound');
    expect(reasonLabel(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('EACCES');
    expect(reasonLabel(new Error('something odd'))).toBe('Unknown');
    expect(reasonLabel('  image not found!! ')).toBe('image_not_found');
    expect(reasonLabel('x'.repeat(100))).toHaveLength(32);
    expect(reasonLabel(42)).toBe('Unknown');
  });
});
