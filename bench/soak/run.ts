// `BENCH_ONLY=soak npm run bench`: the soak suite, nodelet alone (no peer: the question is whether
// anything grows, not how fast). A registry with the fixture images, one daemon in a temporary root
// with its /metrics on, BENCH_SOAK_MINUTES of churn (30) at BENCH_SOAK_PARALLEL (10), a sample every
// BENCH_SOAK_SAMPLE_S (60); writes bench/results/<date>-soak.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criClient } from '../../test/support/cri_client';
import { startDaemon } from '../../test/support/daemon';
import { leftovers } from '../../test/support/leftovers';
import { startRegistry } from '../../test/support/registry';
import { BUSYBOX } from '../lib/pods';
import { machine, versions } from '../setup/machine';
import { setting } from '../suites/context';
import { runSoak } from './driver';
import { growthTable, soakMarkdown } from './report';

const WARM_FRACTION = 0.2;

export async function soakMain(progress: (message: string) => void): Promise<void> {
  const started = Date.now();
  const minutes = setting('BENCH_SOAK_MINUTES', 30);
  const parallel = setting('BENCH_SOAK_PARALLEL', 10);
  const sampleS = setting('BENCH_SOAK_SAMPLE_S', minutes >= 10 ? 60 : 10);
  const machineInfo = machine();
  const registry = await startRegistry({ withFixtures: true });
  const logRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-soak-logs-'));
  try {
    const daemon = await startDaemon({
      config: { registry: registry.mirrorConfig() },
      args: ['--metrics-address', '127.0.0.1:0'],
      timeoutMs: 30_000,
    });
    const cri = criClient(daemon.endpoint);
    try {
      await cri.image('PullImage', { image: { image: BUSYBOX } }, 300_000);
      progress(`soak: ${minutes} min at parallelism ${parallel}, a sample every ${sampleS} s`);
      const result = await runSoak({
        cri,
        roots: daemon,
        daemonPid: daemon.proc.pid!,
        metricsAddress: /"metrics":"([^"]+)"/.exec(daemon.logs())?.[1],
        durationMs: minutes * 60_000,
        sampleEveryMs: sampleS * 1000,
        parallel,
        place: { logRoot },
        progress,
      });
      const remaining = leftovers(daemon, { daemonPid: daemon.proc.pid! });
      if (remaining.length > 0) {
        result.firstErrors.push(`left after every pod was removed: ${remaining.join('; ')}`);
        result.errors['leftovers'] = remaining.length;
      }
      machineInfo['load average at end'] = os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
      const date = new Date().toISOString().slice(0, 10);
      const file = path.resolve(
        __dirname,
        '..',
        'results',
        `${process.env.BENCH_RESULT ?? `${date}-soak`}.md`,
      );
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(
        file,
        soakMarkdown(result, {
          date,
          machine: machineInfo,
          versions: versions(),
          settings: {
            BENCH_SOAK_MINUTES: minutes,
            BENCH_SOAK_PARALLEL: parallel,
            BENCH_SOAK_SAMPLE_S: sampleS,
          },
          durationS: (Date.now() - started) / 1000,
          warmFraction: WARM_FRACTION,
        }),
      );
      console.log(
        `\n${growthTable(result, WARM_FRACTION)}\n\nWritten to ${path.relative(process.cwd(), file)}`,
      );
    } finally {
      cri.close();
      await daemon.stop();
      await daemon.cleanup();
    }
  } finally {
    await registry.stop();
    fs.rmSync(logRoot, { recursive: true, force: true });
  }
}
