import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pino from 'pino';
import type { ContainerStatus__Output } from '../../gen/runtime/v1/ContainerStatus';
import type { ContainerLogRuntime } from './cri';
import { startContainerLogManager, type ContainerLogManager } from './manager';

/** A runtime of containers writing to files under the test's directory; ReopenContainerLog creates the file anew. */
class FakeLogRuntime implements ContainerLogRuntime {
  readonly containers = new Map<string, { state: string; logPath: string; name: string }>();
  reopens: string[] = [];
  failReopen = false;

  async listContainers(state?: string) {
    return [...this.containers]
      .filter(([, c]) => !state || c.state === state)
      .map(([id]) => ({ id }) as never);
  }
  async containerStatus(id: string) {
    const c = this.containers.get(id);
    if (!c) return undefined;
    return {
      id,
      state: c.state,
      log_path: c.logPath,
      labels: {
        'io.kubernetes.pod.name': 'web',
        'io.kubernetes.pod.namespace': 'default',
        'io.kubernetes.container.name': c.name,
      },
    } as unknown as ContainerStatus__Output;
  }
  async reopenContainerLog(id: string) {
    this.reopens.push(id);
    if (this.failReopen) throw new Error('Cannot call ReopenContainerLog: injected');
    fs.closeSync(fs.openSync(this.containers.get(id)!.logPath, 'a'));
  }
}

let dir: string;
let runtime: FakeLogRuntime;
let manager: ContainerLogManager;
let clock: Date;
const links = () => path.join(dir, 'containers');
const logOf = (restart = 0) => path.join(dir, 'pods', 'default_web_uid', 'app', `${restart}.log`);
const line = (text: string) => `2026-01-01T00:00:00.000000000Z stdout F ${text}\n`;

function start(maxSizeBytes: number, maxFiles: number) {
  manager = startContainerLogManager(runtime, pino({ level: 'silent' }), {
    policy: { maxSizeBytes, maxFiles },
    linksDir: links(),
    monitorIntervalMs: 3_600_000,
    now: () => clock,
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-logmgr-'));
  fs.mkdirSync(path.dirname(logOf()), { recursive: true });
  runtime = new FakeLogRuntime();
  runtime.containers.set('c1', { state: 'CONTAINER_RUNNING', logPath: logOf(), name: 'app' });
  clock = new Date(2026, 0, 1, 0, 0, 1);
});

afterEach(async () => {
  await manager?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tick = () => (clock = new Date(clock.getTime() + 1000));
const files = () => fs.readdirSync(path.dirname(logOf())).sort();

describe('the container log manager', () => {
  test('a live log below the size stays; at the size it is renamed and the runtime reopens it', async () => {
    start(100, 5);
    fs.writeFileSync(logOf(), line('short'));
    await manager.runOnce();
    expect(files()).toEqual(['0.log']);
    fs.appendFileSync(logOf(), line('x'.repeat(100)));
    await manager.runOnce();
    expect(files()).toEqual(['0.log', '0.log.20260101-000001']);
    expect(runtime.reopens).toEqual(['c1']);
    expect(fs.readFileSync(logOf(), 'utf8')).toBe('');
    expect(fs.readFileSync(`${logOf()}.20260101-000001`, 'utf8')).toContain('short');
  });

  test('older rotated files are gzipped and the oldest go beyond max files', async () => {
    start(10, 4);
    for (let i = 1; i <= 5; i++) {
      fs.appendFileSync(logOf(), line(`round ${i}`));
      tick();
      await manager.runOnce();
    }
    // Live + the newest rotated (plain) + 2 older (gzipped) = 4.
    expect(files()).toEqual([
      '0.log',
      '0.log.20260101-000004.gz',
      '0.log.20260101-000005.gz',
      '0.log.20260101-000006',
    ]);
    const gz = zlib.gunzipSync(fs.readFileSync(`${logOf()}.20260101-000004.gz`)).toString();
    expect(gz).toBe(line('round 3'));
  });

  test('a failed reopen puts the live log back for the next round', async () => {
    start(10, 5);
    fs.writeFileSync(logOf(), line('kept in place'));
    runtime.failReopen = true;
    await manager.runOnce();
    expect(files()).toEqual(['0.log']);
    expect(fs.readFileSync(logOf(), 'utf8')).toBe(line('kept in place'));
  });

  test('an exited container is not rotated', async () => {
    start(10, 5);
    fs.writeFileSync(logOf(), line('done'));
    runtime.containers.get('c1')!.state = 'CONTAINER_EXITED';
    await manager.runOnce();
    expect(files()).toEqual(['0.log']);
    expect(runtime.reopens).toEqual([]);
  });

  test('a started container gets its link; its removal takes its files and link', async () => {
    start(10, 5);
    fs.writeFileSync(logOf(), line('a'));
    fs.writeFileSync(`${logOf()}.20260101-000000.gz`, '');
    await manager.containerStarted('c1');
    const link = path.join(links(), 'web_default_app-c1.log');
    expect(fs.readlinkSync(link)).toBe(logOf());
    await manager.containerRemoving('c1');
    expect(fs.existsSync(link)).toBe(false);
    expect(files()).toEqual([]);
  });

  test('dangling links go when their container exited or is gone, not while it runs', async () => {
    start(-1, 5);
    runtime.containers.set('c2', { state: 'CONTAINER_EXITED', logPath: logOf(1), name: 'app' });
    fs.mkdirSync(links());
    for (const id of ['c1', 'c2', 'c3'])
      fs.symlinkSync(logOf(9), path.join(links(), `web_default_app-${id}.log`));
    await manager.runOnce();
    expect(fs.readdirSync(links())).toEqual(['web_default_app-c1.log']);
  });
});
