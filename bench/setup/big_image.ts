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

/** The OCI layout of the image (built on first use); `layerMb` sizes each of the 3 layers. */
export async function bigImageLayout(layerMb = 33): Promise<string> {
  const layout = path.join(CACHE, `oci-${layerMb}`);
  if (fs.existsSync(path.join(layout, 'index.json')) && fs.existsSync(path.join(CACHE, `done-${layerMb}`))) {
    return layout;
  }
  fs.rmSync(CACHE, { recursive: true, force: true });
  fs.mkdirSync(CACHE, { recursive: true });
  const bundle = path.join(CACHE, 'bundle');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:img`]);
  for (let i = 1; i <= 3; i++) {
    await run('umoci', ['unpack', '--rootless', '--image', `${layout}:img`, bundle]);
    writeRandomFile(path.join(bundle, 'rootfs', `layer-${i}.bin`), layerMb << 20);
    await run('umoci', ['repack', '--image', `${layout}:img`, bundle]);
    fs.rmSync(bundle, { recursive: true, force: true });
  }
  await run('umoci', ['config', '--image', `${layout}:img`, '--config.cmd', '/layer-1.bin']);
  await run('umoci', ['gc', '--layout', layout]);
  fs.writeFileSync(path.join(CACHE, `done-${layerMb}`), '');
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
