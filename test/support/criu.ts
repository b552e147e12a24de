// The CRIU binary the checkpoint tests hand to the daemon: the first that `criu check` accepts on
// this kernel, from where scripts/install-criu.sh builds it, then PATH. Debian 12's criu 3.17
// cannot run on kernels that split the vDSO's vvar mapping (6.13+): its check fails there.
import fs from 'node:fs';
import path from 'node:path';
import { runTool } from './tools';

const INSTALL_ROOT = '/usr/local/lib/nodelet-tools';

export function criuCandidates(): string[] {
  let built: string[] = [];
  try {
    built = fs
      .readdirSync(INSTALL_ROOT)
      .filter((d) => d.startsWith('criu-'))
      .sort()
      .reverse()
      .map((d) => path.join(INSTALL_ROOT, d, 'criu'));
  } catch {
    // nothing built
  }
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((d) => path.join(d, 'criu'));
  return [...built, ...onPath, '/usr/sbin/criu'].filter(
    (p, i, all) => fs.existsSync(p) && all.indexOf(p) === i,
  );
}

/** A criu that works here, or throws saying why none does. */
export function workingCriu(): string {
  const tried: string[] = [];
  for (const bin of criuCandidates()) {
    const r = runTool(bin, ['check'], { timeout: 60_000 });
    if (r.code === 0) return bin;
    tried.push(`${bin}: ${(r.err || r.out).trim().split('\n').slice(-1)[0]}`);
  }
  throw new Error(
    `No criu passes 'criu check' here (run scripts/install-criu.sh): ${tried.join('; ') || 'none found'}`,
  );
}
