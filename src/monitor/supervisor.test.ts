import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { defaultSpec } from '../runtime/spec/defaults';
import { PlainLauncher } from './launcher';
import { Supervisor } from './supervisor';

jest.setTimeout(30_000);

const log = pino({ level: 'silent' });
const openFds = () => fs.readdirSync('/proc/self/fd').length;

let root: string;
let runDir: string;
let supervisor: Supervisor;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-supervisor-'));
  runDir = path.join(root, 'run');
  fs.mkdirSync(runDir);
  supervisor = new Supervisor({ runDir, launcher: new PlainLauncher(), log });
});

afterEach(async () => {
  await supervisor.killAll();
  supervisor.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const containerDir = (id: string) => path.join(runDir, 'containers', id);

describe('a create that fails part way', () => {
  // The plain launcher refuses an empty argv after the directory, FIFOs, stdin holder, log and
  // taps were made: a real failure at the launch step.
  test.each([
    ['plain stdio', {}],
    ['stdin held open once', { stdin: true, stdinOnce: true }],
  ])('undoes what it made (%s): no directory, no open file, and the id is free again', async (_, stdio) => {
    const before = openFds();
    const empty = defaultSpec({ id: 'c1', rootPath: '/', args: [], cwd: '/' });
    await expect(
      supervisor.create({ id: 'c1', spec: empty, logPath: path.join(root, 'c1.log'), ...stdio }),
    ).rejects.toThrow("Cannot launch 'c1': process.args is empty");
    expect(fs.existsSync(containerDir('c1'))).toBe(false);
    expect(openFds()).toBe(before);
    expect(supervisor.list()).toEqual([]);

    const spec = defaultSpec({ id: 'c1', rootPath: '/', args: ['true'], cwd: '/' });
    const info = await supervisor.create({ id: 'c1', spec, logPath: path.join(root, 'c1.log'), ...stdio });
    expect(info.state).toBe('created');
    expect(fs.existsSync(containerDir('c1'))).toBe(true);
  });
});
