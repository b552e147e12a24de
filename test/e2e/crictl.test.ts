// The real crictl against a real daemon, as a person types it.
import { spawnSync } from 'node:child_process';
import { startDaemon, TestDaemon } from '../support/daemon';
import { findTool } from '../support/tools';

let daemon: TestDaemon;
const crictl = findTool('crictl');

function run(...args: string[]) {
  const r = spawnSync(
    crictl,
    ['--runtime-endpoint', daemon.endpoint, '--image-endpoint', daemon.endpoint, ...args],
    {
      encoding: 'utf8',
      timeout: 20000,
      env: { ...process.env, CRI_CONFIG_FILE: '/dev/null' },
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  daemon?.cleanup();
});

describe('crictl against nodelet', () => {
  test('crictl version prints runtime name nodelet and API v1', () => {
    const r = run('version');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/RuntimeName:\s+nodelet/);
    expect(r.out).toMatch(/RuntimeApiVersion:\s+v1/);
  });

  test('crictl info shows the RuntimeReady and NetworkReady conditions', () => {
    const r = run('info');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as { status: { conditions: { type: string; status: boolean }[] } };
    expect(info.status.conditions.map((c) => c.type)).toEqual(['RuntimeReady', 'NetworkReady']);
    expect(info.status.conditions[0].status).toBe(true);
  });

  test('crictl imagefsinfo reports the image filesystem under the state dir', () => {
    const r = run('imagefsinfo');
    expect(r.code).toBe(0);
    expect(r.out).toContain(daemon.stateDir);
  });

  test('crictl pods fails with Unimplemented instead of crashing or listing nothing', () => {
    const r = run('pods');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/code = Unimplemented/);
    expect(daemon.proc.exitCode).toBeNull();
  });
});
