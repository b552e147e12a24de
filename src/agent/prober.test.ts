import pino from 'pino';
import { FakeCri } from './fake_cri.testutil';
import { containerLabels } from './labels';
import { ProbeMetrics } from './metrics';
import type { Container } from './pod_spec';
import { ContainerProber } from './prober';

const log = pino({ level: 'silent' });
let probers: ContainerProber[] = [];

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  for (const p of probers) p.stop();
  probers = [];
  jest.useRealTimers();
});

function probe(cri: FakeCri, container: Container): ContainerProber {
  const p = new ContainerProber(
    cri,
    container,
    { containerId: 'c1', podIP: '127.0.0.1' },
    { log, onChange: () => undefined },
  );
  probers.push(p);
  return p;
}

const exec = (command: string) => ({ exec: { command: [command] }, periodSeconds: 1 });

test('a container without probes is started and ready at once', () => {
  const p = probe(new FakeCri(), { name: 'c', image: 'i' });
  expect(p.results).toEqual({ started: true, ready: true, unhealthy: false });
});

test('liveness turns the container unhealthy only after failureThreshold failures in a row', async () => {
  const cri = new FakeCri();
  let healthy = true;
  cri.exec = () => (healthy ? 0 : 1);
  const p = probe(cri, { name: 'c', image: 'i', livenessProbe: { ...exec('live'), failureThreshold: 3 } });
  await jest.advanceTimersByTimeAsync(2500);
  healthy = false;
  await jest.advanceTimersByTimeAsync(2000);
  expect(p.results.unhealthy).toBe(false);
  await jest.advanceTimersByTimeAsync(1000);
  expect(p.results.unhealthy).toBe(true);
});

test('readiness follows the probe both ways', async () => {
  const cri = new FakeCri();
  let ready = false;
  cri.exec = () => (ready ? 0 : 1);
  const p = probe(cri, { name: 'c', image: 'i', readinessProbe: { ...exec('ready'), failureThreshold: 1 } });
  expect(p.results.ready).toBe(false);
  await jest.advanceTimersByTimeAsync(100);
  ready = true;
  await jest.advanceTimersByTimeAsync(1000);
  expect(p.results.ready).toBe(true);
  ready = false;
  await jest.advanceTimersByTimeAsync(1000);
  expect(p.results.ready).toBe(false);
});

test('a startup probe holds back liveness and readiness until it succeeds', async () => {
  const cri = new FakeCri();
  let up = false;
  cri.exec = (req) => (req.cmd?.[0] === 'startup' ? (up ? 0 : 1) : 1);
  const p = probe(cri, {
    name: 'c',
    image: 'i',
    startupProbe: { ...exec('startup'), failureThreshold: 30 },
    livenessProbe: { ...exec('live'), failureThreshold: 1 },
  });
  await jest.advanceTimersByTimeAsync(5000);
  expect(p.results).toEqual({ started: false, ready: true, unhealthy: false });
  expect(
    cri.calls
      .filter((c) => c.method === 'execSync')
      .every((c) => (c.arg as { cmd: string[] }).cmd[0] === 'startup'),
  ).toBe(true);
  up = true;
  await jest.advanceTimersByTimeAsync(1000);
  expect(p.results.started).toBe(true);
  await jest.advanceTimersByTimeAsync(1000);
  expect(p.results.unhealthy).toBe(true);
});

describe('probe metrics', () => {
  /** A running container in the fake runtime with the kubelet labels of pod default/web (uid u1). */
  async function labelled(cri: FakeCri): Promise<string> {
    const labels = containerLabels({ name: 'web', namespace: 'default', uid: 'u1' }, 'app');
    const { container_id: id } = await cri.createContainer({
      pod_sandbox_id: 'sb1',
      config: { metadata: { name: 'app' }, image: { image: 'i' }, labels },
    });
    return id;
  }

  function prober(cri: FakeCri, containerId: string, container: Container, metrics: ProbeMetrics) {
    const p = new ContainerProber(
      cri,
      container,
      { containerId, podIP: '127.0.0.1' },
      { log, onChange: () => undefined, metrics },
    );
    probers.push(p);
    return p;
  }

  test('each probe run is counted under the pod and container the runtime labels name', async () => {
    const cri = new FakeCri();
    const id = await labelled(cri);
    let ok = true;
    cri.exec = () => (ok ? 0 : 1);
    const metrics = new ProbeMetrics();
    prober(cri, id, { name: 'app', image: 'i', readinessProbe: exec('ready') }, metrics);
    await jest.advanceTimersByTimeAsync(1500);
    ok = false;
    await jest.advanceTimersByTimeAsync(1000);
    const text = await metrics.registry.metrics();
    const who = 'container="app",pod="web",namespace="default",pod_uid="u1"';
    expect(text).toContain(`prober_probe_total{probe_type="Readiness",result="successful",${who}} 2`);
    expect(text).toContain(`prober_probe_total{probe_type="Readiness",result="failed",${who}} 1`);
    expect(text).toContain(
      'prober_probe_duration_seconds_count{probe_type="Readiness",container="app",pod="web",namespace="default"} 2',
    );
    // the labels are asked of the runtime once, not at every probe
    expect(cri.countCalls('containerStatus')).toBe(1);
  });

  test('a stopped prober counts nothing more, and a container the runtime cannot name is not counted', async () => {
    const cri = new FakeCri();
    const id = await labelled(cri);
    const metrics = new ProbeMetrics();
    const p = prober(cri, id, { name: 'app', image: 'i', livenessProbe: exec('live') }, metrics);
    await jest.advanceTimersByTimeAsync(500);
    p.stop();
    await jest.advanceTimersByTimeAsync(3000);
    expect(await metrics.registry.metrics()).toContain('result="successful",container="app"');
    expect(await metrics.registry.metrics()).toMatch(/probe_type="Liveness".*\} 1$/m);

    const unlabelled = new ProbeMetrics();
    prober(cri, 'c-unknown', { name: 'x', image: 'i', livenessProbe: exec('live') }, unlabelled);
    await jest.advanceTimersByTimeAsync(1500);
    expect(await unlabelled.registry.metrics()).not.toContain('prober_probe_total{');
  });
});
