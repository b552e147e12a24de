// Runs a shell command on the host under a container process's security settings, through the
// test helper src/runtime/security/exec_with_security.testutil.ts (a child Node process, so the
// test worker's own credentials never change). The child gets a private mount namespace so a
// privileged `mount` inside it leaves nothing on the host.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type {
  CapabilitySets,
  LinuxSpec,
  ProcessSpec,
  RlimitSpec,
  SeccompSpec,
  UserSpec,
} from '../../../src/runtime/spec';

const ROOT = path.resolve(__dirname, '../../..');
const REGISTER = path.join(__dirname, 'ts_register.js');
const RUNNER = path.join(ROOT, 'src/runtime/security/exec_with_security.testutil.ts');

export interface SecuredRun {
  user?: UserSpec;
  capabilities?: CapabilitySets;
  noNewPrivileges?: boolean;
  rlimits?: RlimitSpec[];
  seccomp?: SeccompSpec;
  seccompBpf?: string;
  /** A directory (inside the test's temp dir) where the child keeps transpiled sources. */
  tsCache?: string;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runSecured(script: string, opts: SecuredRun = {}): RunResult {
  const proc: ProcessSpec = {
    terminal: false,
    args: ['/bin/busybox', 'sh', '-c', script],
    env: ['PATH=/bin:/usr/bin:/sbin:/usr/sbin'],
    cwd: '/',
    user: opts.user ?? { uid: 0, gid: 0, additionalGids: [] },
    capabilities: opts.capabilities,
    noNewPrivileges: opts.noNewPrivileges ?? false,
    rlimits: opts.rlimits ?? [],
  };
  const linux: LinuxSpec = {
    namespaces: [],
    sysctl: {},
    maskedPaths: [],
    readonlyPaths: [],
    devices: [],
    seccomp: opts.seccomp,
    seccompBpf: opts.seccompBpf,
  };
  const res = spawnSync(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      process.execPath,
      '-r',
      REGISTER,
      RUNNER,
      JSON.stringify({ process: proc, linux }),
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODELET_TS_CACHE: opts.tsCache ?? '' },
      timeout: 60_000,
    },
  );
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** A capability line of /proc/self/status, e.g. "CapBnd", as a number. */
export function statusField(stdout: string, field: string): string | undefined {
  return stdout.match(new RegExp(`^${field}:\\s*(\\S+)`, 'm'))?.[1];
}
