// Root tests on the real kernel: a process put through applyProcessSecuritySync, then execve'd
// into busybox, shows the identity, capabilities, no_new_privs, seccomp and rlimits asked for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  capabilitiesFor,
  compileSeccomp,
  loadSeccompProfile,
  resolveUser,
  runtimeDefaultSeccomp,
} from '../../../src/runtime/security';
import { runSecured as run, statusField, type SecuredRun } from './run_secured';

const isRoot = process.getuid?.() === 0;
const describeRoot = isRoot ? describe : describe.skip;

// The image critest's SupplementalGroupsPolicy specs use.
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ndefault-user:x:1000:1000::/home/default-user:/bin/sh\n';
const GROUP = 'root:x:0:\ndefault-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n';

describeRoot('a container process after applyProcessSecuritySync', () => {
  let dir: string;
  let rootfs: string;
  const runSecured = (script: string, opts: SecuredRun = {}) =>
    run(script, { tsCache: path.join(dir, 'ts-cache'), ...opts });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-sec-it-'));
    rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'etc/passwd'), PASSWD);
    fs.writeFileSync(path.join(rootfs, 'etc/group'), GROUP);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs as the CRI user with the Merge policy’s groups', () => {
    const user = resolveUser(rootfs, { runAsUser: 1000, supplementalGroups: [1234], policy: 'Merge' });
    const res = runSecured('id -u; id -g; id -G', { user, capabilities: capabilitiesFor({ uid: 1000 }) });
    expect(res.stderr).toBe('');
    expect(res.stdout.split('\n')).toEqual(['1000', '1000', '1000 1234 50000', '']);
  });

  it('runs with only the pod’s groups under the Strict policy', () => {
    const user = resolveUser(rootfs, { runAsUser: 1000, supplementalGroups: [1234], policy: 'Strict' });
    const res = runSecured('id -G', { user, capabilities: capabilitiesFor({ uid: 1000 }) });
    expect(res.stdout).toBe('1000 1234\n');
  });

  it('has an empty bounding set when ALL capabilities are dropped', () => {
    const res = runSecured('grep Cap /proc/self/status', {
      capabilities: capabilitiesFor({ uid: 0, drop: ['ALL'] }),
    });
    expect(statusField(res.stdout, 'CapBnd')).toBe('0000000000000000');
    expect(statusField(res.stdout, 'CapEff')).toBe('0000000000000000');
  });

  it('keeps a non-root user’s effective set empty but raises ambient capabilities', () => {
    const caps = capabilitiesFor({ uid: 1000, addAmbient: ['NET_BIND_SERVICE'] });
    const res = runSecured('grep Cap /proc/self/status', {
      user: { uid: 1000, gid: 1000, additionalGids: [] },
      capabilities: caps,
    });
    expect(statusField(res.stdout, 'CapEff')).toBe('0000000000000400');
    expect(statusField(res.stdout, 'CapAmb')).toBe('0000000000000400');
  });

  it('cannot ping without NET_RAW and can with the default set', () => {
    const ping = 'ping -c 1 -W 2 127.0.0.1';
    const denied = runSecured(ping, { capabilities: capabilitiesFor({ uid: 0, drop: ['NET_RAW'] }) });
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toContain('permission denied');
    expect(runSecured(ping, { capabilities: capabilitiesFor({ uid: 0 }) }).status).toBe(0);
  });

  it('cannot mount unprivileged but can when privileged', () => {
    const target = fs.mkdtempSync(path.join(dir, 'mnt-'));
    const script = `mount -t tmpfs nodelet-test ${target} && grep -c ' ${target} ' /proc/self/mounts`;
    const unprivileged = runSecured(script, { capabilities: capabilitiesFor({ uid: 0 }) });
    expect(unprivileged.status).not.toBe(0);
    expect(unprivileged.stderr).toMatch(/Operation not permitted|permission denied/i);
    const privileged = runSecured(script, { capabilities: capabilitiesFor({ uid: 0, privileged: true }) });
    expect(privileged.stderr).toBe('');
    expect(privileged.stdout).toBe('1\n');
  });

  it('gives a privileged container every capability the node holds', () => {
    const held = fs.readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*(\S+)/m)![1];
    const res = runSecured('grep Cap /proc/self/status', {
      capabilities: capabilitiesFor({ uid: 0, privileged: true }),
    });
    expect(statusField(res.stdout, 'CapBnd')).toBe(held);
    expect(statusField(res.stdout, 'CapEff')).toBe(held);
  });

  it('sets no_new_privs when asked', () => {
    const on = runSecured('grep NoNewPrivs /proc/self/status', { noNewPrivileges: true });
    expect(statusField(on.stdout, 'NoNewPrivs')).toBe('1');
    const off = runSecured('grep NoNewPrivs /proc/self/status', { noNewPrivileges: false });
    expect(statusField(off.stdout, 'NoNewPrivs')).toBe('0');
  });

  it('runs under RuntimeDefault seccomp, which blocks new namespaces even where capabilities would not', () => {
    const user = { uid: 1000, gid: 1000, additionalGids: [] };
    const caps = capabilitiesFor({ uid: 1000 });
    // An unprivileged user may create a user namespace: only the filter stops it.
    const script = 'grep "^Seccomp:" /proc/self/status; unshare -U true && echo unshare-allowed';
    const unconfined = runSecured(script, { user, capabilities: caps });
    expect(unconfined.stdout).toContain('unshare-allowed');
    const confined = runSecured(script, {
      user,
      capabilities: caps,
      noNewPrivileges: true,
      seccomp: runtimeDefaultSeccomp(caps.bounding),
    });
    expect(statusField(confined.stdout, 'Seccomp')).toBe('2');
    expect(confined.stdout).not.toContain('unshare-allowed');
    expect(confined.stderr).toContain('Operation not permitted');
  });

  it('answers ENOSYS for syscalls newer than RuntimeDefault knows, and EPERM for old ones it denies', () => {
    // The workload here is Node itself, calling raw syscalls: 451 cachestat (newer than the
    // profile), 250 keyctl (denied by the profile).
    const probe = `const k=require('koffi');const f=k.load('libc.so.6').func('long syscall(long n, long a, long b, long c)');for(const n of [451,250]){f(n,0,0,0);console.log(n,k.errno())}`;
    const caps = capabilitiesFor({ uid: 0 });
    const res = runSecured(
      `NODE_PATH=${path.resolve(__dirname, '../../../node_modules')} ${process.execPath} -e "${probe}"`,
      {
        capabilities: caps,
        noNewPrivileges: true,
        seccomp: runtimeDefaultSeccomp(caps.bounding),
      },
    );
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('451 38\n250 1\n');
  });

  it('loads a precompiled filter and loads it before dropping privileges when no_new_privs is off', () => {
    const caps = capabilitiesFor({ uid: 0 });
    const seccompBpf = compileSeccomp(runtimeDefaultSeccomp(caps.bounding)).toString('base64');
    const res = runSecured('grep "^Seccomp:" /proc/self/status', { capabilities: caps, seccompBpf });
    expect(res.stdout).toBe('Seccomp:\t2\n');
  });

  it('makes chmod fail with EPERM under a Localhost profile that denies it', () => {
    const profile = path.join(dir, 'deny-chmod.json');
    fs.writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' }],
      }),
    );
    const file = path.join(dir, 'target');
    fs.writeFileSync(file, '');
    const res = runSecured(`chmod 600 ${file}`, {
      capabilities: capabilitiesFor({ uid: 0 }),
      seccomp: loadSeccompProfile(profile),
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('Operation not permitted');
    expect(fs.statSync(file).mode & 0o777).not.toBe(0o600);
  });

  it('sets rlimits, clamping a hard limit the node cannot raise', () => {
    const currentHard = fs
      .readFileSync('/proc/self/limits', 'utf8')
      .match(/^Max open files\s+\S+\s+(\S+)/m)![1];
    const res = runSecured('ulimit -Sn; ulimit -Hn; ulimit -Sc', {
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: Number.MAX_SAFE_INTEGER },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      ],
    });
    expect(res.stdout.split('\n')).toEqual(['512', currentHard, '0', '']);
  });

  it('fails with a message naming the step when a step is refused', () => {
    // Without no_new_privs the filter is loaded first, so one that denies setresuid stops the uid change.
    const profile = path.join(dir, 'deny-setresuid.json');
    fs.writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['setresuid'], action: 'SCMP_ACT_ERRNO' }],
      }),
    );
    const res = runSecured('echo should-not-run', {
      user: { uid: 1000, gid: 1000, additionalGids: [] },
      seccomp: loadSeccompProfile(profile),
    });
    expect(res.status).toBe(121);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain("Cannot set uid 1000 for the container process: Cannot setresuid '1000'");
    expect(res.stderr).toContain('EPERM');
  });
});
