// Attacks on the init's security step, each of which used to leave a workload running as root
// with every capability and no seccomp:
//   - a broken install whose security module is missing: the init skipped it;
//   - a spec with a seccomp filter but no compiled program: the init compiled it AFTER pivot_root,
//     loading the IMAGE's libseccomp.so.2 (here one whose constructor leaves a mark) as root.
// The engine runs from a copy of dist/ in a child process (a broken copy for the first attack).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capabilitiesFor } from '../../src/runtime/security';
import { buildBusyboxRootfs } from '../support/busybox_rootfs';
import { ensureBuilt, mountsUnder, REPO } from '../integration/runtime/harness';

jest.setTimeout(120_000);

let tmp: string;
let rootfs: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-failclosed-'));
  rootfs = buildBusyboxRootfs(path.join(tmp, 'rootfs'));
  fs.mkdirSync(path.join(tmp, 'out'));
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Creates and starts one container from the engine at distDir; the workload writes its
 * capabilities (the CRI's defaults are asked for) to /out/caps, a bind mount of tmp/out.
 * Returns the error, if any.
 */
async function runContainer(distDir: string, linux: object): Promise<string | undefined> {
  const ctx = { rootfs, out: path.join(tmp, 'out'), linux, capabilities: capabilitiesFor({ uid: 0 }) };
  const script = `
const rt = require(${JSON.stringify(path.join(distDir, 'runtime/index.js'))});
const ctx = ${JSON.stringify(ctx)};
(async () => {
  const spec = rt.defaultSpec({ id: 'failclosed', rootPath: ctx.rootfs,
    args: ['sh', '-c', 'grep CapEff /proc/self/status > /out/caps'] });
  spec.mounts.push({ destination: '/out', source: ctx.out, type: 'bind', options: ['rbind', 'rw'] });
  Object.assign(spec.linux, ctx.linux);
  spec.process.capabilities = ctx.capabilities;
  const c = await rt.spawnContainer(spec, { stdout: 'ignore', stderr: 'ignore' });
  const exited = new Promise((r) => c.child.once('exit', r));
  await c.start();
  await exited;
})().then(() => { process.stdout.write('@@OK'); }, (e) => { process.stdout.write('@@ERR' + e.message); });
`;
  const child = spawn(process.execPath, ['-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  if (out.includes('@@OK')) return undefined;
  const at = out.indexOf('@@ERR');
  if (at < 0) throw new Error(`the engine process failed: ${out}`);
  return out.slice(at + '@@ERR'.length);
}

/** dist/ copied without its security module, beside a link to node_modules (for koffi). */
function brokenInstall(): string {
  const copy = path.join(tmp, 'install');
  fs.mkdirSync(copy);
  fs.cpSync(path.join(REPO, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
  fs.rmSync(path.join(copy, 'dist/runtime/security'), { recursive: true });
  return path.join(copy, 'dist');
}

describe('the init fails closed', () => {
  test('an install without the security module starts no workload', async () => {
    const error = await runContainer(brokenInstall(), {});
    expect(error).toMatch(/Cannot (create|start) container 'failclosed'/);
    expect(fs.existsSync(path.join(tmp, 'out/caps'))).toBe(false);
  });

  test("a seccomp filter without its compiled program is refused, and the image's libseccomp never runs", async () => {
    // An image library that marks the container's root when it is loaded.
    const lib = path.join(rootfs, 'lib/x86_64-linux-gnu');
    fs.mkdirSync(lib, { recursive: true });
    const source = path.join(tmp, 'evil.c');
    fs.writeFileSync(
      source,
      '#include <fcntl.h>\n__attribute__((constructor)) static void evil(void) { creat("/out/pwned", 0644); }\n',
    );
    for (const name of ['libseccomp.so.2', 'libseccomp.so']) {
      execFileSync('gcc', ['-shared', '-fPIC', '-o', path.join(lib, name), source]);
    }
    const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [] };
    const error = await runContainer(path.join(REPO, 'dist'), { seccomp });
    expect(error).toMatch(/seccomp filter is not compiled/);
    expect(fs.existsSync(path.join(tmp, 'out/pwned'))).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'out/caps'))).toBe(false);
  });

  test('a container with a compiled filter and the security module runs with its reduced capabilities', async () => {
    const error = await runContainer(path.join(REPO, 'dist'), {});
    expect(error).toBeUndefined();
    const caps = fs.readFileSync(path.join(tmp, 'out/caps'), 'utf8');
    expect(caps).toMatch(/^CapEff:\s+00000000a80425fb\n$/);
  });
});
