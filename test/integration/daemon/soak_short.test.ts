// The soak in short form (the 30-minute one is `BENCH_ONLY=soak npm run bench`): pod churn with
// exec, logs, stats and list calls at parallelism 4 for about two minutes, through the same driver
// (bench/soak/driver.ts). Once every pod is removed nothing remains — no mount, netns, veth, lease,
// cgroup, record, directory or process beyond the daemon, monitor and keeper — and the daemon's and
// monitor's fds are back near what they were warm and idle before the churn.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSoak, SoakResult } from '../../../bench/soak/driver';
import { CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';
import { leftovers } from '../../support/leftovers';

const MINUTES = Number(process.env.SOAK_SHORT_MINUTES ?? 2);
/** fds that may come and go with no leak: a gRPC connection, a timer's or a log file's. */
const FD_SLACK = 6;

let env: CriEnv | undefined;
let logRoot = '';
let result: SoakResult;

beforeAll(
  async () => {
    env = await startCriEnv({ args: ['--metrics-address', '127.0.0.1:0'] });
    logRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-soak-logs-'));
    const metricsAddress = /"metrics":"([^"]+)"/.exec(env.daemon.logs())?.[1];
    result = await runSoak({
      cri: env.cri,
      roots: env.daemon,
      daemonPid: env.daemon.proc.pid!,
      metricsAddress,
      durationMs: MINUTES * 60_000,
      sampleEveryMs: 10_000,
      parallel: 4,
      place: { logRoot },
    });
  },
  (MINUTES + 8) * 60_000,
);

afterAll(async () => {
  try {
    await stopCriEnv(env);
  } finally {
    if (logRoot) fs.rmSync(logRoot, { recursive: true, force: true });
  }
}, 120_000);

describe('pod churn for a while', () => {
  test('cycles pods with every call succeeding', () => {
    expect(result.firstErrors).toEqual([]);
    expect(result.cycles).toBeGreaterThan(0);
  });

  test('leaves nothing behind once every pod is removed', () => {
    expect(leftovers(env!.daemon, { daemonPid: env!.daemon.proc.pid! })).toEqual([]);
  });

  test("brings the daemon's and the monitor's fds back to their warm idle count", () => {
    const grown = ['daemon fds', 'monitor fds', 'keeper fds'].map((series) => ({
      series,
      before: result.idleBefore.values[series],
      after: result.idleAfter.values[series],
    }));
    // NaN (a process gone) fails too.
    expect(grown.filter((g) => !(g.after! - g.before! <= FD_SLACK))).toEqual([]);
  });
});
