import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { defaultSpec } from '../runtime/spec/defaults';
import type { ContainerSpec } from '../runtime/spec';
import { PlainLauncher, type LaunchedProcess } from './launcher';
import type { ChildStdio } from './stdio';
import { Supervisor } from './supervisor';

jest.setTimeout(30_000);

const log = pino({ level: 'silent' });

/** The plain launcher, saying what the engine's says about its init. */
class PooledLauncher extends PlainLauncher {
  override async launch(spec: ContainerSpec, stdio: ChildStdio): Promise<LaunchedProcess> {
    return { ...(await super.launch(spec, stdio)), fromPool: true, initSeconds: 0.004 };
  }
}

let root: string;
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

async function createWith(launcher: PlainLauncher) {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-initstart-'));
  const runDir = path.join(root, 'run');
  fs.mkdirSync(runDir);
  const supervisor = new Supervisor({ runDir, launcher, log });
  try {
    const spec = defaultSpec({ id: 'c1', rootPath: '/', args: ['true'], cwd: '/' });
    return await supervisor.create({ id: 'c1', spec, logPath: path.join(root, 'c1.log') });
  } finally {
    await supervisor.killAll();
    supervisor.close();
  }
}

describe('the monitor’s answer to create', () => {
  test('says where the init came from and how long it took to be ready', async () => {
    const info = await createWith(new PooledLauncher());
    expect(info.initStart).toEqual({ source: 'pool', seconds: 0.004 });
  });

  test('says nothing of an init when the launcher has none', async () => {
    const info = await createWith(new PlainLauncher());
    expect(info.initStart).toBeUndefined();
    expect(info.state).toBe('created');
  });
});
