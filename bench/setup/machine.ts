// The machine and the versions a run measured, for the results page.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]!
      .trim();
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

export function machine(): Record<string, string> {
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  return {
    cpu: `${os.cpus().length} × ${cpuModel}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    os: /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown',
    'load average at start': os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function versions(): Record<string, string> {
  const root = path.resolve(__dirname, '..', '..');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  return {
    nodelet: `${pkg.version} (${firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])})`,
    node: process.version,
    containerd: firstLine('containerd', ['--version']),
    runc: firstLine('runc', ['--version']),
    critest: firstLine('critest', ['--version']),
    'CNI plugins': firstLine('dpkg-query', ['-W', '-f=${Version}', 'containernetworking-plugins']),
  };
}
