// The real crictl against a real daemon, as a person types it.
import { crictlFor } from '../support/crictl';
import { startDaemon, TestDaemon } from '../support/daemon';

let daemon: TestDaemon;

const run = (...args: string[]) => crictlFor(daemon.endpoint).run(args, { timeoutMs: 20_000 });

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  await daemon?.cleanup();
});

describe('crictl against nodelet', () => {
  test('crictl version prints runtime name nodelet and API v1', () => {
    const r = run('version');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/RuntimeName:\s+nodelet/);
    expect(r.out).toMatch(/RuntimeApiVersion:\s+v1/);
  });

  test('crictl info shows the RuntimeReady and NetworkReady conditions, both true', () => {
    const r = run('info');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as { status: { conditions: { type: string; status: boolean }[] } };
    expect(info.status.conditions.map((c) => [c.type, c.status])).toEqual([
      ['RuntimeReady', true],
      ['NetworkReady', true],
    ]);
  });

  test('crictl imagefsinfo reports the image filesystem under the state dir', () => {
    const r = run('imagefsinfo');
    expect(r.code).toBe(0);
    expect(r.out).toContain(daemon.stateDir);
  });

  test('crictl pods on a fresh node lists no pod', () => {
    const r = run('pods', '-q');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('');
  });

  test('crictl checkpoint fails with Unimplemented instead of crashing or pretending', () => {
    const r = run('checkpoint', '--export=/tmp/x.tar', 'abc');
    expect(r.code).not.toBe(0);
    expect(daemon.proc.exitCode).toBeNull();
  });
});
