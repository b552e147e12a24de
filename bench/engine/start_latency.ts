// Create + start + exit of a busybox `true` container, N times in a row (default 20): the time
// from spawnContainer() to the 'exit' event, split into create (init started, root built) and
// start-to-exit. Node's own start-up inside the init is the bulk of create; a pool of pre-started
// inits (issue 3 item 8, not built yet) would take it off the critical path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultSpec, spawnContainer } from '../../src/runtime';
import { buildBusyboxRootfs } from '../../test/support/busybox_rootfs';

function ms(from: bigint, to: bigint): number {
  return Number(to - from) / 1e6;
}

function summary(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `${name.padEnd(16)} p50 ${at(0.5)} ms  p90 ${at(0.9)} ms  max ${at(1)} ms`;
}

export async function main(args: string[]): Promise<void> {
  const runs = Number(args[0] ?? 20);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-engine-'));
  try {
    const lower = buildBusyboxRootfs(path.join(tmp, 'lower'));
    const create: number[] = [];
    const run: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = path.join(tmp, `c${i}`);
      for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { recursive: true });
      const spec = defaultSpec({
        id: `bench${i}`,
        rootPath: path.join(dir, 'merged'),
        overlay: { lowerDirs: [lower], upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work') },
        args: ['true'],
      });
      const t0 = process.hrtime.bigint();
      const c = await spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' });
      const t1 = process.hrtime.bigint();
      const exited = new Promise((resolve) => c.child.once('exit', resolve));
      await c.start();
      await exited;
      const t2 = process.hrtime.bigint();
      create.push(ms(t0, t1));
      run.push(ms(t1, t2));
      total.push(ms(t0, t2));
    }
    console.log(`busybox 'true' in an overlay root, ${runs} runs`);
    console.log(summary('create', create));
    console.log(summary('start..exit', run));
    console.log(summary('total', total));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
