// Finds the real peer tools (crictl, critest, …): on PATH, or where `go install` puts them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function findTool(name: string): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(':'),
    process.env.GOBIN ?? '',
    path.join(process.env.GOPATH ?? path.join(os.homedir(), 'go'), 'bin'),
  ].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`Cannot find '${name}': run scripts/install-test-deps.sh (it installs the real ${name})`);
}
