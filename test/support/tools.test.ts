// How the tests find and run the peer tools: the way a fresh machine has them, and a tool that
// cannot run is reported with its cause.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTool, mustRunTool, runTool } from './tools';

describe('findTool', () => {
  let home: string;
  const saved = { HOME: process.env.HOME, GOPATH: process.env.GOPATH, GOBIN: process.env.GOBIN };

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-home-'));
    fs.mkdirSync(path.join(home, 'go', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(home, 'go', 'bin', 'nodelet-only-at-home'), '#!/bin/sh\n', { mode: 0o755 });
  });
  afterAll(() => {
    Object.assign(process.env, saved);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('finds a tool on PATH', () => {
    expect(findTool('sh')).toMatch(/\/sh$/);
  });

  it('never takes a tool from a home directory, where only a hand-made machine has it', () => {
    process.env.HOME = home;
    process.env.GOPATH = path.join(home, 'go');
    process.env.GOBIN = path.join(home, 'go', 'bin');
    expect(() => findTool('nodelet-only-at-home')).toThrow(
      "Cannot find 'nodelet-only-at-home' on PATH nor in /usr/local/lib/nodelet-tools",
    );
  });
});

describe('runTool', () => {
  it('names the missing binary', () => {
    expect(() => runTool('/nonexistent/crictl', ['runp', 'pod.json'])).toThrow(
      "crictl runp pod.json: ENOENT '/nonexistent/crictl'",
    );
  });

  it('names the time limit that stopped a hanging tool', () => {
    expect(() => runTool('sleep', ['30'], { timeout: 300 })).toThrow('sleep 30: ETIMEDOUT after 0.3 s');
  });

  it('returns a failed exit with its output', () => {
    expect(runTool('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({
      code: 3,
      out: 'out\n',
      err: 'err\n',
    });
  });

  it('reports a command that must succeed with its exit code and stderr', () => {
    expect(() => mustRunTool('sh', ['-c', 'echo broken >&2; exit 2'])).toThrow(
      'sh -c echo broken >&2; exit 2 exited 2: broken',
    );
  });
});
