// Pulls the bench's big image again and again into a fresh state directory and reports, per
// decompression mode and download concurrency, the wall time and the CPU seconds of this process
// (the daemon's share: digests, tar reader, file writes, and inflating on the JavaScript path) and
// of its reaped children (unpigz, zstd). CPU seconds hold still on a loaded machine where wall time
// does not.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Images } from '../../src/image';
import type { NativeDecompressMode } from '../../src/image/native_decompress';
import { startRegistry } from '../../test/support/registry';
import { BigImageData, bigImageLayout, BIG_IMAGE_REPO, pushBigImage } from '../setup/big_image';

/** utime + stime of this process and of its reaped children, in seconds (/proc/self/stat). */
function cpuSeconds(): { self: number; children: number } {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const tick = 100; // USER_HZ
  return { self: (f[11] + f[12]) / tick, children: (f[13] + f[14]) / tick };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(args: string[]): Promise<void> {
  const pulls = Number(args[0] ?? 5);
  const data = (args[1] ?? 'hex') as BigImageData;
  const layout = await bigImageLayout(33, data);
  const registry = await startRegistry();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-pull-cpu-'));
  try {
    await pushBigImage(layout, registry.host);
    const modes: Array<[NativeDecompressMode, number]> = [
      ['off', 3],
      ['auto', 3],
      ['auto', 1],
      ['off', 1],
    ];
    const rows: Record<string, { wall: number[]; self: number[]; children: number[] }> = {};
    for (let round = 0; round < pulls; round++) {
      for (const [mode, downloads] of modes) {
        const key = `nativeDecompress ${mode}, ${downloads} at once`;
        const stateDir = path.join(root, 'state');
        const images = await Images.open({
          stateDir,
          registry: { ...registry.mirrorConfig(), nativeDecompress: mode, maxConcurrentDownloads: downloads },
        });
        const before = cpuSeconds();
        const began = performance.now();
        await images.pull(`registry.k8s.io/${BIG_IMAGE_REPO}`);
        const wall = (performance.now() - began) / 1000;
        const after = cpuSeconds();
        const row = (rows[key] ??= { wall: [], self: [], children: [] });
        row.wall.push(wall);
        row.self.push(after.self - before.self);
        row.children.push(after.children - before.children);
        fs.rmSync(stateDir, { recursive: true, force: true });
      }
    }
    console.log(
      `${data} image, ${pulls} pulls each, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log('| mode | wall p50 | CPU of the puller p50 | CPU of its children p50 |');
    console.log('|---|---:|---:|---:|');
    for (const [key, r] of Object.entries(rows)) {
      console.log(
        `| ${key} | ${median(r.wall).toFixed(2)} s | ${median(r.self).toFixed(2)} s | ${median(r.children).toFixed(2)} s |`,
      );
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    await registry.stop();
  }
}
