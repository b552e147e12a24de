// Choosing the seccomp filter for a container from its CRI security context.
//   nil / Unconfined     → no filter
//   RuntimeDefault       → the default profile (runtime_default.ts)
//   Localhost + ref      → a Docker-style JSON profile at an absolute host path (no '..')
//   privileged           → no filter, whatever was asked (as containerd and CRI-O do)
import path from 'node:path';
import { invalidArgument } from '../../../common/errors';
import type { SecurityProfile } from '../../../gen/runtime/v1/SecurityProfile';
import type { SeccompSpec } from '../../spec';
import { DEFAULT_CAPABILITIES } from '../capabilities';
import { readSmallFileInRoot } from '../small_file';
import { reduceProfile } from './docker_profile';
import { parseSeccompProfile } from './profile_schema';
import { RUNTIME_DEFAULT_PROFILE } from './runtime_default';

/** The default profile, reduced for a container whose bounding set is `caps` ("CAP_" names). */
export function runtimeDefaultSeccomp(caps: readonly string[] = DEFAULT_CAPABILITIES): SeccompSpec {
  return reduceProfile(RUNTIME_DEFAULT_PROFILE, 'RuntimeDefault', { caps });
}

/**
 * A Localhost profile. The kubelet sends `<root-dir>/seccomp/<localhostProfile>`, an absolute path
 * it joined itself (the API refuses ".." in localhostProfile); a relative path or one with a ".."
 * segment is refused rather than resolved. The file is read as a small regular file (a FIFO there
 * must not hang the daemon) and its content never appears in an error.
 */
export function loadSeccompProfile(
  file: string,
  caps: readonly string[] = DEFAULT_CAPABILITIES,
): SeccompSpec {
  const what = `seccomp profile '${file}'`;
  if (!path.isAbsolute(file)) throw invalidArgument(`Cannot load ${what}: the path must be absolute`);
  if (file.split('/').includes('..')) {
    throw invalidArgument(`Cannot load ${what}: the path must not leave its directory with '..'`);
  }
  const text = readSmallFileInRoot('/', file, what);
  if (text === undefined) throw invalidArgument(`Cannot load ${what}: no such file`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the text it choked on: say where, not what, of a file we were pointed at.
    throw invalidArgument(`Cannot load ${what}: it is not valid JSON`, err);
  }
  return reduceProfile(parseSeccompProfile(doc, file), file, { caps });
}

/**
 * The filter for a container, or undefined for none. `profile` is the CRI's SecurityProfile, or the
 * deprecated seccomp_profile_path string ("runtime/default", "docker/default", "unconfined",
 * "localhost/<absolute path>"). `load` reads a Localhost profile (the CRI layer passes its host's).
 */
export function seccompFor(
  profile: SecurityProfile | string | null | undefined,
  privileged: boolean,
  caps: readonly string[],
  load: (file: string, caps: readonly string[]) => SeccompSpec = loadSeccompProfile,
): SeccompSpec | undefined {
  if (privileged || profile === null || profile === undefined) return undefined;
  if (typeof profile === 'string') {
    if (profile === '' || profile === 'unconfined') return undefined;
    if (profile === 'runtime/default' || profile === 'docker/default') return runtimeDefaultSeccomp(caps);
    if (profile.startsWith('localhost/')) return load(profile.slice('localhost/'.length), caps);
    throw invalidArgument(`Cannot use seccomp profile '${profile}': unknown profile`);
  }
  switch (profile.profile_type ?? 'RuntimeDefault') {
    case 'Unconfined':
    case 1:
      return undefined;
    case 'RuntimeDefault':
    case 0:
      return runtimeDefaultSeccomp(caps);
    case 'Localhost':
    case 2: {
      const ref = (profile.localhost_ref ?? '').replace(/^localhost\//, '');
      if (ref === '') throw invalidArgument('Cannot use a Localhost seccomp profile: localhost_ref is empty');
      return load(ref, caps);
    }
    default:
      throw invalidArgument(
        `Cannot use seccomp profile type '${String(profile.profile_type)}': unknown type`,
      );
  }
}
