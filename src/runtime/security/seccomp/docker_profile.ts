// The Docker/moby seccomp profile format (what RuntimeDefault is written in and what Localhost
// profiles use), and its reduction to the OCI form (SeccompSpec) for one container: rules whose
// includes/excludes do not match the container's capabilities, the architecture or the kernel are
// left out, as moby and containerd do when they build config.json.
import os from 'node:os';
import { invalidArgument } from '../../../common/errors';
import type { SeccompSpec } from '../../spec';
import type { DockerSeccompProfile, DockerSeccompRule } from './profile_schema';

export type { DockerSeccompProfile, DockerSeccompRule };

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

/** Reduces a profile (RuntimeDefault, or one parseSeccompProfile read) for one container. */
export function reduceProfile(
  profile: DockerSeccompProfile,
  where: string,
  context: ReduceContext,
): SeccompSpec {
  const fail = (why: string) => invalidArgument(`Cannot use seccomp profile '${where}': ${why}`);
  const ctx = { arch: process.arch, kernel: os.release(), ...context };
  const host = HOST_ARCH[ctx.arch];
  if (!host) throw fail(`architecture '${ctx.arch}' is not supported`);

  const mapped = profile.archMap?.find((m) => m.architecture === host.scmp);
  const architectures = mapped
    ? [mapped.architecture, ...(mapped.subArchitectures ?? [])]
    : (profile.architectures ?? []).length > 0
      ? [...profile.architectures!]
      : [host.scmp];

  const syscalls: SeccompSpec['syscalls'] = [];
  for (const rule of profile.syscalls ?? []) {
    const names = rule.names ?? (rule.name ? [rule.name] : []);
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
