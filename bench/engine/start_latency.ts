// Create + start + exit of a busybox `true` container, N times in a row (default 20): the time
// from spawnContainer() to the 'exit' event, split into create (init started, root built) and
// start-to-exit. Measured twice: cold (a fresh Node init per container, whose start-up is the bulk
// of create) and from an InitPool of 2 pre-started inits (refilled in the background).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultSpec, InitPool, spawnContainer } from '../../src/runtime';
import { buildBusyboxRootfs } from '../../test/support/busybox_rootfs';

function ms(from: bigint, to: bigint): number {
  return Number(to - from) / 1e6;
}

function summary(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `${name.padEnd(16)} p50 ${at(0.5)} ms  p90 ${at(0.9)} ms  max ${at(1)} ms`;
}

async function measure(tmp: string, lower: string, runs: number, pool: InitPool | undefined): Promise<void> {
  const create: number[] = [];
  const run: number[] = [];
  const total: number[] = [];
  let pooled = 0;
  for (let i = 0; i < runs; i++) {
    const dir = path.join(tmp, `${pool ? 'pool' : 'cold'}${i}`);
    for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    const spec = defaultSpec({
      id: `bench${i}`,
      rootPath: path.join(dir, 'merged'),
      overlay: { lowerDirs: [lower], upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work') },
      args: ['true'],
    });
    // As between CRI calls: the pool's background refill gets its moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = process.hrtime.bigint();
    const c = await spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' }, { pool });
    const t1 = process.hrtime.bigint();
    const exited = new Promise((resolve) => c.child.once('exit', resolve));
    await c.start();
    await exited;
    const t2 = process.hrtime.bigint();
    if (c.fromPool) pooled++;
    create.push(ms(t0, t1));
    run.push(ms(t1, t2));
    total.push(ms(t0, t2));
  }
  console.log(`${pool ? `pool of ${pool.size}` : 'cold'}: ${runs} runs, ${pooled} from the pool`);
  console.log(summary('  create', create));
  console.log(summary('  start..exit', run));
  console.log(summary('  total', total));
}

export async function main(args: string[]): Promise<void> {
  const runs = Number(args[0] ?? 20);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-engine-'));
  const pool = new InitPool({ size: 2 });
  try {
    const lower = buildBusyboxRootfs(path.join(tmp, 'lower'));
    console.log(`busybox 'true' in an overlay root`);
    await measure(tmp, lower, runs, undefined);
    pool.fill();
    await measure(tmp, lower, runs, pool);
  } finally {
    await pool.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
