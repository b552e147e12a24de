// Reading and writing cgroup control files. Synchronous on purpose: each call is one small read
// or write to a kernel pseudo-file (microseconds), and sync calls keep ordering obvious.
import fs from 'node:fs';
import path from 'node:path';
import { NodeletError, failedPrecondition, invalidArgument, notFound } from '../../common/errors';

/** The file's content, trimmed, or undefined when it does not exist. */
export function readOptional(file: string): string | undefined {
  try {
    return readSmall(file).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENOTSUP' || code === 'EOPNOTSUPP')
      return undefined;
    throw controlError(err, `read '${file}'`);
  }
}

/** Control files are small: one read into a shared buffer spares readFileSync's fstat and allocation. */
const buffer = Buffer.allocUnsafe(64 * 1024);

function readSmall(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return n < buffer.length ? buffer.toString('utf8', 0, n) : fs.readFileSync(file, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export function readNumber(file: string): number | undefined {
  const text = readOptional(file);
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control) → a map. */
export function parseFlatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && value !== '') out.set(key, Number(value));
  }
  return out;
}

/** Writes one control file, naming the cgroup, the file and the value when the kernel refuses. */
export function writeControl(dir: string, file: string, value: string, cgroup: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (err) {
    throw controlError(err, `set '${file}' of cgroup '${cgroup}' to '${value}'`);
  }
}

export function controlError(err: unknown, action: string): NodeletError {
  const e = err as NodeJS.ErrnoException;
  const message = `Cannot ${action}: ${e.message ?? String(err)}`;
  if (e.code === 'EINVAL' || e.code === 'ERANGE') return invalidArgument(message, err);
  if (e.code === 'ENOENT') return notFound(message, err);
  return failedPrecondition(message, err);
}

export function readPids(dir: string): number[] {
  const text = readOptional(path.join(dir, 'cgroup.procs'));
  if (!text) return [];
  return text
    .split('\n')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Names of the child cgroups (directories) of a cgroup directory; none when it is absent. */
export function childCgroups(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
