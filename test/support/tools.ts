// Finds the real peer tools (crictl, critest, go, …) the way a fresh machine has them: on PATH, then
// where the install scripts put them (scripts/install-test-deps.sh and install-kube-tools.sh build
// into /usr/local/lib/nodelet-tools/<tool>-<version>/; Go's tarball lives in /usr/local/go). Never
// under a home directory: a `go install` someone once ran by hand is not on a new machine.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const INSTALL_ROOT = '/usr/local/lib/nodelet-tools';

function installDirs(): string[] {
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(INSTALL_ROOT).map((d) => path.join(INSTALL_ROOT, d));
  } catch {
    // Not installed yet: findTool names the script that installs it.
  }
  return [...versions, '/usr/local/go/bin'];
}

export function findTool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...installDirs()].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`Cannot find '${name}' on PATH nor in ${INSTALL_ROOT}: run scripts/install-test-deps.sh`);
}

export interface ToolResult {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs a tool to completion. A tool that could not run at all (missing, not executable, killed by
 * the time limit) throws with the cause (`ENOENT '/usr/local/bin/crictl'`, `ETIMEDOUT after 60 s`)
 * instead of looking like a tool that failed with an empty message; a non-zero exit is returned.
 */
export function runTool(
  bin: string,
  args: string[],
  options: Omit<SpawnSyncOptions, 'encoding'> & { timeout?: number } = {},
): ToolResult {
  const timeout = options.timeout ?? 60_000;
  const r = spawnSync(bin, args, { maxBuffer: 256 * 1024 * 1024, ...options, timeout });
  if (r.error)
    throw new Error(`${path.basename(bin)} ${args.join(' ')}: ${spawnFailure(r.error, bin, timeout)}`);
  return { code: r.status, out: r.stdout?.toString() ?? '', err: r.stderr?.toString() ?? '' };
}

/** `ENOENT '/path/tool'` or `ETIMEDOUT after 60 s`: what went wrong, never the error object itself. */
export function spawnFailure(error: Error, bin: string, timeoutMs: number): string {
  const code = (error as NodeJS.ErrnoException).code ?? error.name;
  if (code === 'ETIMEDOUT') return `ETIMEDOUT after ${timeoutMs / 1000} s`;
  return `${code} '${bin}'`;
}

/** Runs a tool that must succeed; its stdout. A failure names the command, its exit code and stderr. */
export function mustRunTool(
  bin: string,
  args: string[],
  options: Parameters<typeof runTool>[2] = {},
): string {
  const r = runTool(bin, args, options);
  if (r.code !== 0) {
    throw new Error(
      `${path.basename(bin)} ${args.join(' ')} exited ${r.code}: ${r.err.trim() || '(no stderr)'}`,
    );
  }
  return r.out;
}
