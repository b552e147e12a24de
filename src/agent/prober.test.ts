import pino from 'pino';
import { FakeCri } from './fake_cri.testutil';
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
