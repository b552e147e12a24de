// Finding the workload's executable inside the container's root (the init has pivoted, so '/' is
// the container's), with the container's PATH, as Go's exec.LookPath does for runc. The messages
// match what users know from the CRI.
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition } from '../../common/errors';
import { DEFAULT_PATH } from '../spec/defaults';

export function findExecutable(arg0: string | undefined, env: readonly string[], cwd: string): string {
  if (arg0 === undefined || arg0 === '') throw failedPrecondition('exec: no command given');
  if (arg0.includes('/')) {
    const candidate = path.resolve(cwd, arg0);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(candidate);
    } catch {
      throw failedPrecondition(`exec: "${arg0}": stat ${arg0}: no such file or directory`);
    }
    if (!isExecutable(stat)) throw failedPrecondition(`exec: "${arg0}": permission denied`);
    return candidate;
  }
  for (const dir of searchPath(env).split(':')) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, arg0);
    try {
      if (isExecutable(fs.statSync(candidate))) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw failedPrecondition(`exec: "${arg0}": executable file not found in $PATH`);
}

function searchPath(env: readonly string[]): string {
  const entry = [...env].reverse().find((e) => e.startsWith('PATH='));
  return entry === undefined ? DEFAULT_PATH : entry.slice('PATH='.length);
}

function isExecutable(stat: fs.Stats): boolean {
  return stat.isFile() && (stat.mode & 0o111) !== 0;
}
