// The cgroup v2 device filter on the real kernel: a BPF program attached to a cgroup in the
// cgroup2 tree (the hybrid host's unified mount here) decides which device nodes the cgroup's
// processes may open and create. The processes tried are busybox children moved into the cgroup;
// the Jest worker itself never joins it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALL_DEVICES,
  DEFAULT_DEVICE_RULES,
  attachDeviceFilter,
  createCgroupManager,
  detachDeviceFilters,
  detectCgroups,
} from '../../../src/runtime/cgroups';
import { encode, exit } from '../../../src/runtime/cgroups/ebpf_asm';
import {
  BPF_CGROUP_DEVICE,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgLoad,
  bpfProgQuery,
} from '../../../src/runtime/sys';
import type { DeviceRule } from '../../../src/runtime/spec/types';
import { BUSYBOX, CGROUP_ROOT, uniqueParent } from './support';

const unified = fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))
  ? CGROUP_ROOT
  : path.join(CGROUP_ROOT, 'unified');
const haveV2 = fs.existsSync(path.join(unified, 'cgroup.controllers'));

/** Runs `script` in busybox sh inside the cgroup and returns its exit code and output. */
async function runIn(cgroupDir: string, script: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(BUSYBOX, ['sh', '-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    fs.writeFileSync(path.join(cgroupDir, 'cgroup.procs'), String(child.pid));
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  child.stdin.end('go\n');
  return { code: await exited, out };
}

/** A script printing "ok" or "denied" for each command (stderr stays: /dev/null may be denied). */
const tries = (cmds: string[]) => cmds.map((c) => `if (${c}); then echo ok; else echo denied; fi`).join('; ');
/** The "ok" and "denied" lines of that script's output, without the shell's error messages. */
const verdicts = (out: string) => out.split('\n').filter((l) => l === 'ok' || l === 'denied');

(haveV2 ? describe : describe.skip)('the device filter on a cgroup2 cgroup', () => {
  let dir: string;
  let scratch: string;

  beforeEach(() => {
    dir = path.join(unified, uniqueParent());
    fs.mkdirSync(dir);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-devices-'));
  });

  afterEach(() => {
    // Every child has exited by now (runIn waits); rmdir also releases attached programs.
    fs.rmdirSync(dir);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('allows opening the devices on the list and refuses the others with EPERM', async () => {
    attachDeviceFilter(dir, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ]);
    const r = await runIn(dir, `head -c1 /dev/null && echo null-ok; head -c1 /dev/zero; echo zero-exit=$?`);
    expect(r.out).toContain('null-ok');
    expect(r.out).toMatch(/\/dev\/zero: Operation not permitted/);
    expect(r.out).toContain('zero-exit=1');
  });

  test('mknod is refused where the rule lacks m, and the node it allows still cannot be opened', async () => {
    attachDeviceFilter(dir, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'c', major: 1, minor: 7, access: 'm' },
    ]);
    const r = await runIn(
      dir,
      tries([
        `mknod ${scratch}/null c 1 3`,
        `mknod ${scratch}/full c 1 7`,
        `: <${scratch}/full`,
        ': </dev/null',
      ]),
    );
    expect(verdicts(r.out)).toEqual(['denied', 'ok', 'denied', 'ok']);
  });

  test('the default rules let a container use its standard devices but not the kernel log or disks', async () => {
    attachDeviceFilter(dir, DEFAULT_DEVICE_RULES);
    const r = await runIn(
      dir,
      tries([
        ': </dev/zero',
        ': </dev/urandom',
        ': >/dev/full',
        ': </dev/kmsg',
        ': </dev/loop0',
        `mknod ${scratch}/sda b 8 0`,
        `: <${scratch}/sda`,
      ]),
    );
    expect(verdicts(r.out)).toEqual(['ok', 'ok', 'ok', 'denied', 'denied', 'ok', 'denied']);
  });

  test('attaching again replaces the program, and detaching gives every device back', async () => {
    attachDeviceFilter(dir, DEFAULT_DEVICE_RULES);
    attachDeviceFilter(dir, ALL_DEVICES);
    expect(programsOn(dir)).toHaveLength(1);
    expect(verdicts((await runIn(dir, tries([': </dev/kmsg']))).out)).toEqual(['ok']);
    attachDeviceFilter(dir, [{ allow: false, access: 'rwm' }]);
    expect(verdicts((await runIn(dir, tries([': </dev/null']))).out)).toEqual(['denied']);
    detachDeviceFilters(dir);
    expect(programsOn(dir)).toEqual([]);
    expect(verdicts((await runIn(dir, tries([': </dev/null']))).out)).toEqual(['ok']);
  });

  test('a program the verifier refuses fails with the verifier’s reason', () => {
    // "exit" without setting r0: the verifier rejects reading an unset return value.
    const bad = encode([exit()]);
    expect(() => bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, bad)).toThrow(
      /Cannot bpf\(PROG_LOAD\): .*\(EACCES\); verifier log:\n.*R0 !read_ok/s,
    );
  });

  test('the cgroup manager attaches the rules on a host without a v1 devices hierarchy', async () => {
    // The host as a pure-v2 machine would be: only the cgroup2 tree, no v1 hierarchies.
    const system = { ...detectCgroups(unified), v1: {} };
    const manager = createCgroupManager(system);
    const cg = `/${path.basename(dir)}/ctr`;
    manager.create(cg, { devices: DEFAULT_DEVICE_RULES as DeviceRule[] });
    try {
      expect(programsOn(path.join(unified, cg))).toHaveLength(1);
      const r = await runIn(path.join(unified, cg), tries([': </dev/null', ': </dev/kmsg']));
      expect(verdicts(r.out)).toEqual(['ok', 'denied']);
    } finally {
      await manager.destroy(cg, { force: true });
    }
  });
});

function programsOn(cgroupDir: string): number[] {
  const fd = fs.openSync(cgroupDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return bpfProgQuery(fd, BPF_CGROUP_DEVICE, cgroupDir);
  } finally {
    fs.closeSync(fd);
  }
}
