import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh copy of the module, armed by these variables, with process.kill recorded instead of run. */
function load(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let mod!: typeof import('./crash_point');
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require('./crash_point') as typeof import('./crash_point');
    });
  } finally {
    process.env = saved;
  }
  const kills: [number, string | number | undefined][] = [];
  jest.spyOn(process, 'kill').mockImplementation((pid, signal) => {
    kills.push([pid, signal]);
    return true;
  });
  return { ...mod, kills };
}

afterEach(() => jest.restoreAllMocks());

test('crashPoint does nothing when no point is named', () => {
  const { crashPoint, kills } = load({ NODELET_CRASH_POINT: undefined });
  crashPoint('run-pod-sandbox/after-record');
  expect(kills).toEqual([]);
});

test('crashPoint kills the process with SIGKILL at the named point only', () => {
  const { crashPoint, kills } = load({ NODELET_CRASH_POINT: 'a/b' });
  crashPoint('a/c');
  expect(kills).toEqual([]);
  crashPoint('a/b');
  expect(kills).toEqual([[process.pid, 'SIGKILL']]);
});

test('crashPoint with name:N kills on the N-th pass', () => {
  const { crashPoint, kills } = load({ NODELET_CRASH_POINT: 'layer:3' });
  crashPoint('layer');
  crashPoint('layer');
  expect(kills).toEqual([]);
  crashPoint('layer');
  expect(kills).toHaveLength(1);
});

test('with a once file, only the first process to get there dies, and the file says it did', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-point-'));
  try {
    const once = path.join(dir, 'crashed');
    const first = load({ NODELET_CRASH_POINT: 'p', NODELET_CRASH_ONCE: once });
    first.crashPoint('p');
    expect(first.kills).toHaveLength(1);
    expect(fs.existsSync(once)).toBe(true);
    jest.restoreAllMocks();
    const second = load({ NODELET_CRASH_POINT: 'p', NODELET_CRASH_ONCE: once });
    second.crashPoint('p');
    expect(second.kills).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('crashPointEnv passes on only the variables that are set', () => {
  const { crashPointEnv } = load({});
  const saved = { ...process.env };
  try {
    process.env.NODELET_CRASH_POINT = 'x';
    delete process.env.NODELET_CRASH_ONCE;
    expect(crashPointEnv()).toEqual({ NODELET_CRASH_POINT: 'x' });
  } finally {
    process.env = saved;
  }
});
