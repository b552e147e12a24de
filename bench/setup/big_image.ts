// The pull benchmark's image: three layers of random (incompressible) data, about 100 MB in all,
// built once with umoci into .cache/bench/ and pushed to the bench registry at every start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CACHE = path.resolve(__dirname, '..', '..', '.cache', 'bench', 'big-image');
/** The repository path under which the image is pushed; pulled as <mirrored host>/<this>. */
export const BIG_IMAGE_REPO = 'nodelet-bench/big:1';

function writeRandomFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= 1 << 20) fs.writeSync(fd, randomBytes(Math.min(left, 1 << 20)));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Hex digits of random bytes: text that gzip shrinks to about half, so a pull spends its time
 * inflating, as with real layers, where the random bytes of the default image are stored as is.
 */
function writeHexFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= 1 << 20)
      fs.writeSync(fd, randomBytes(Math.min(left, 1 << 20) / 2).toString('hex'));
  } finally {
    fs.closeSync(fd);
  }
}

export type BigImageData = 'random' | 'hex';

/**
 * The OCI layout of the image (built on first use); `layerMb` sizes each of the 3 layers, `data`
 * says what fills them (BENCH_BIG_IMAGE_DATA).
 */
export async function bigImageLayout(
  layerMb = 33,
  data: BigImageData = (process.env.BENCH_BIG_IMAGE_DATA as BigImageData | undefined) ?? 'random',
): Promise<string> {
  const name = data === 'random' ? `${layerMb}` : `${data}-${layerMb}`;
  const layout = path.join(CACHE, `oci-${name}`);
  if (fs.existsSync(path.join(layout, 'index.json')) && fs.existsSync(path.join(CACHE, `done-${name}`))) {
    return layout;
  }
  fs.rmSync(layout, { recursive: true, force: true });
  fs.mkdirSync(CACHE, { recursive: true });
  const bundle = path.join(CACHE, 'bundle');
  fs.rmSync(bundle, { recursive: true, force: true });
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:img`]);
  for (let i = 1; i <= 3; i++) {
    await run('umoci', ['unpack', '--rootless', '--image', `${layout}:img`, bundle]);
    const write = data === 'hex' ? writeHexFile : writeRandomFile;
    write(path.join(bundle, 'rootfs', `layer-${i}.bin`), layerMb << 20);
    await run('umoci', ['repack', '--image', `${layout}:img`, bundle]);
    fs.rmSync(bundle, { recursive: true, force: true });
  }
  await run('umoci', ['config', '--image', `${layout}:img`, '--config.cmd', '/layer-1.bin']);
  await run('umoci', ['gc', '--layout', layout]);
  fs.writeFileSync(path.join(CACHE, `done-${name}`), '');
  return layout;
}

/** Pushes the image to a plain-HTTP registry at `host` (127.0.0.1:port). */
export async function pushBigImage(layout: string, host: string): Promise<void> {
  await run('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${layout}:img`,
    `docker://${host}/${BIG_IMAGE_REPO}`,
  ]);
}
