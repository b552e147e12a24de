// Runs a test scenario in a fresh Node process (privileged namespace work must not touch the Jest
// worker), against the engine built into dist/ (the init must run from there anyway). The scenario
// is a function whose source is sent over: it gets the dist runtime module, the helpers below and
// a context object, and returns JSON.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
const DIST_RUNTIME = path.join(REPO, 'dist/runtime/index.js');

/** Builds dist/ when the engine's sources are newer than the built init. */
export function ensureBuilt(): void {
  const built = path.join(REPO, 'dist/runtime/init/main.js');
  const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
  const newest = newestMtime(path.join(REPO, 'src/runtime'));
  if (newest <= builtAt) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'ignore' });
  } catch {
    // other parts may not type-check yet; tsc still emits
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export type Runtime = typeof import('../../../src/runtime');
export type Scenario<C, R> = (rt: Runtime, h: ReturnType<typeof helpers>, ctx: C) => Promise<R>;

export async function runScenario<C, R>(scenario: Scenario<C, R>, ctx: C): Promise<R> {
  const script = `
const rt = require(${JSON.stringify(DIST_RUNTIME)});
const h = (${helpers.toString()})();
(${scenario.toString()})(rt, h, ${JSON.stringify(ctx)}).then(
  (r) => { process.stdout.write('\\n@@RESULT@@' + JSON.stringify({ ok: r === undefined ? null : r })); process.exit(0); },
  (e) => { process.stdout.write('\\n@@RESULT@@' + JSON.stringify({ err: String(e && e.message || e) })); process.exit(0); });
`;
  const child = spawn(process.execPath, ['-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  await new Promise((resolve) => child.on('close', resolve));
  const at = out.lastIndexOf('@@RESULT@@');
  if (at < 0) throw new Error(`Scenario process failed: ${out}\n${err}`);
  const result = JSON.parse(out.slice(at + '@@RESULT@@'.length)) as { ok?: R; err?: string };
  if (result.err !== undefined) throw new Error(result.err);
  return result.ok as R;
}

/** Helpers available inside scenarios as `h` (plain JS once compiled: no imports allowed). */
export function helpers() {
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let text = '';
    stream?.on('data', (d: Buffer) => (text += d.toString()));
    return () => text;
  };
  const exited = (child: import('node:child_process').ChildProcess) =>
    new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null)
        resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  return {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    fs: require('node:fs') as typeof import('node:fs'),
    collect,
    exited,
    /** Create, start and wait for a container; returns its output and exit status. */
    async run(rt: Runtime, spec: import('../../../src/runtime').ContainerSpec) {
      const c = await rt.spawnContainer(spec, { stdout: 'pipe', stderr: 'pipe' });
      const stdout = collect(c.child.stdout);
      const stderr = collect(c.child.stderr);
      const done = exited(c.child);
      await c.start();
      const status = await done;
      await new Promise((r) => setTimeout(r, 20));
      return { stdout: stdout(), stderr: stderr(), ...status };
    },
  };
}

export function makeTempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-engine-'));
}

/** Mount points under dir in the host's mount table: must be empty after every test. */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(dir));
}

export function removeTempRoot(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
