// 6. critest -benchmark with a params file, once per runtime: the mean of every operation of each
//    benchmark critest writes (container, pod, image lifecycle, image listing).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { Figure, RUNTIMES } from '../lib/stats';
import { BenchContext, setting } from './context';

interface BenchmarkData {
  operationsNames?: string[];
  datapoints?: { operationsDurationsNs?: number[] }[];
}

/** Mean milliseconds per operation of one critest output file. */
export function operationMeans(data: BenchmarkData): Record<string, number> {
  const names = data.operationsNames ?? [];
  const points = data.datapoints ?? [];
  const out: Record<string, number> = {};
  names.forEach((name, i) => {
    const values = points
      .map((p) => p.operationsDurationsNs?.[i])
      .filter((v): v is number => typeof v === 'number');
    if (values.length > 0) out[name] = values.reduce((a, b) => a + b, 0) / values.length / 1e6;
  });
  return out;
}

export interface CritestOutcome {
  passed: number;
  failed: number;
  /** Empty when critest ran to the end; why it did not otherwise. */
  error: string;
}

/** Passed and failed specs from ginkgo's JUnit report (skipped specs are neither). */
export function junitOutcome(xml: string): { passed: number; failed: number } {
  const attr = (name: string) =>
    Number(new RegExp(`<testsuite [^>]*\\b${name}="(\\d+)"`).exec(xml)?.[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - failed - attr('skipped') - attr('disabled'), failed };
}

function runCritest(
  endpoint: string,
  paramsFile: string,
  outDir: string,
  timeoutS: number,
): Promise<CritestOutcome> {
  const junit = path.join(outDir, 'junit.xml');
  const args = [
    `--runtime-endpoint=${endpoint}`,
    `--image-endpoint=${endpoint}`,
    '-benchmark',
    `--benchmarking-params-file=${paramsFile}`,
    `--benchmarking-output-dir=${outDir}`,
    `--ginkgo.timeout=${timeoutS}s`,
    '--ginkgo.no-color',
    `--ginkgo.junit-report=${junit}`,
  ];
  return new Promise((resolve) => {
    execFile('critest', args, { timeout: (timeoutS + 30) * 1000, maxBuffer: 64 << 20 }, (err) => {
      const xml = fs.existsSync(junit) ? fs.readFileSync(junit, 'utf8') : '';
      resolve({ ...junitOutcome(xml), error: err ? err.message.split('\n')[0]! : '' });
    });
  });
}

export async function critestBench(ctx: BenchContext): Promise<Figure[]> {
  const n = setting('BENCH_CRITEST_N', 10);
  const timeoutS = setting('BENCH_CRITEST_TIMEOUT_S', 300);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-critest-'));
  const byName = new Map<string, Figure>();
  const passed: Figure = {
    section: 'critest -benchmark',
    name: 'specs passed',
    unit: '',
    values: {},
    notes: {},
  };
  const failed: Figure = { section: 'critest -benchmark', name: 'specs failed', unit: '', values: {} };
  try {
    const params = path.join(dir, 'params.yaml');
    fs.writeFileSync(
      params,
      YAML.stringify({
        containersNumber: n,
        containersNumberParallel: 1,
        containerBenchmarkTimeoutSeconds: 120,
        podsNumber: n,
        podsNumberParallel: 1,
        podBenchmarkTimeoutSeconds: 120,
        imagesNumber: Math.max(1, Math.round(n / 2)),
        imagesNumberParallel: 1,
        imageBenchmarkTimeoutSeconds: 120,
      }),
    );
    for (const rt of RUNTIMES) {
      const out = path.join(dir, rt);
      fs.mkdirSync(out);
      ctx.progress(`critest -benchmark: ${rt}`);
      const result = await runCritest(ctx.peers[rt].endpoint, params, out, timeoutS);
      ctx.progress(
        `critest -benchmark: ${rt}: ${result.passed} passed, ${result.failed} failed ${result.error}`,
      );
      passed.values[rt] = result.passed;
      failed.values[rt] = result.failed;
      if (result.error) passed.notes![rt] = result.error;
      for (const file of fs
        .readdirSync(out)
        .filter((f) => f.endsWith('.json'))
        .sort()) {
        const bench = file.replace(/_benchmark_data\.json$/, '').replace(/_/g, ' ');
        const means = operationMeans(JSON.parse(fs.readFileSync(path.join(out, file), 'utf8')));
        for (const [op, ms] of Object.entries(means)) {
          const name = `${bench}: ${op} mean`;
          if (!byName.has(name))
            byName.set(name, { section: 'critest -benchmark', name, unit: 'ms', values: {} });
          byName.get(name)!.values[rt] = ms;
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return [passed, failed, ...byName.values()];
}
