// The Docker/moby seccomp profile format (what RuntimeDefault is written in and what Localhost
// profiles use), and its reduction to the OCI form (SeccompSpec) for one container: rules whose
// includes/excludes do not match the container's capabilities, the architecture or the kernel are
// left out, as moby and containerd do when they build config.json.
import os from 'node:os';
import { invalidArgument } from '../../../common/errors';
import type { SeccompAction, SeccompOperator, SeccompSpec } from '../../spec';

export interface DockerSeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface DockerSeccompRule {
  name?: string;
  names?: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: SeccompOperator }[] | null;
  includes?: DockerSeccompFilter;
  excludes?: DockerSeccompFilter;
  comment?: string;
}

export interface DockerSeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  flags?: string[];
  syscalls?: DockerSeccompRule[] | null;
}

const ACTIONS = new Set<string>([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);
const OPERATORS = new Set<string>([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
]);

/** Node's arch → the Go arch names profiles use in includes.arches, and the libseccomp arch. */
const HOST_ARCH: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
};

export interface ReduceContext {
  /** The container's bounding capabilities, "CAP_" names. */
  caps: readonly string[];
  arch?: string;
  kernel?: string;
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).map((p) => parseInt(p, 10) || 0);
  const [a, b] = [parse(kernel), parse(min)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

function applies(rule: DockerSeccompRule, ctx: Required<ReduceContext>, goArch: string): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (inc.caps?.length && !inc.caps.every((c) => ctx.caps.includes(c))) return false;
  if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
  if (inc.minKernel && !kernelAtLeast(ctx.kernel, inc.minKernel)) return false;
  if (exc.caps?.length && exc.caps.some((c) => ctx.caps.includes(c))) return false;
  if (exc.arches?.length && exc.arches.includes(goArch)) return false;
  if (exc.minKernel && kernelAtLeast(ctx.kernel, exc.minKernel)) return false;
  return true;
}

/** Validates a parsed profile (from an untrusted file) and reduces it for one container. */
export function reduceProfile(
  profile: DockerSeccompProfile,
  where: string,
  context: ReduceContext,
): SeccompSpec {
  const fail = (why: string) => invalidArgument(`Cannot use seccomp profile '${where}': ${why}`);
  const ctx = { arch: process.arch, kernel: os.release(), ...context };
  const host = HOST_ARCH[ctx.arch];
  if (!host) throw fail(`architecture '${ctx.arch}' is not supported`);
  if (typeof profile !== 'object' || profile === null) throw fail('not a JSON object');
  if (!ACTIONS.has(profile.defaultAction)) throw fail(`unknown defaultAction '${profile.defaultAction}'`);

  const mapped = profile.archMap?.find((m) => m.architecture === host.scmp);
  const architectures = mapped
    ? [mapped.architecture, ...(mapped.subArchitectures ?? [])]
    : (profile.architectures ?? []).length > 0
      ? [...profile.architectures!]
      : [host.scmp];

  const syscalls: SeccompSpec['syscalls'] = [];
  for (const rule of profile.syscalls ?? []) {
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    if (!ACTIONS.has(rule.action)) throw fail(`unknown action '${rule.action}' for ${names.join(',')}`);
    for (const arg of rule.args ?? []) {
      if (!OPERATORS.has(arg.op)) throw fail(`unknown operator '${arg.op}' for ${names.join(',')}`);
      if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5)
        throw fail(`argument index ${arg.index}`);
    }
    if (names.length === 0 || !applies(rule, ctx, host.go)) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ ...a })) } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    ...(profile.flags?.length ? { flags: [...profile.flags] } : {}),
    syscalls,
  };
}
