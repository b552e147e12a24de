// Image references as Docker writes them, normalized the way containerd's CRI plugin does:
// `busybox` is `docker.io/library/busybox:latest`. The grammar follows distribution/reference;
// anything else is refused with INVALID_ARGUMENT before a registry is asked.
import { invalidArgument } from '../common/errors';

export interface ImageRef {
  /** Registry host, with an optional port: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  path: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const MAX_NAME = 255;

/** Parses and normalizes a reference; a reference with neither tag nor digest gets `latest`. */
export function parseReference(input: string): ImageRef {
  const refuse = (why: string) => invalidArgument(`Cannot parse image reference '${input}': ${why}`);
  if (input === '') throw refuse('it is empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw refuse(`'${digest}' is not a sha256 or sha512 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw refuse(`'${tag}' is not a valid tag`);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let domain = DOCKER_HUB;
  let path = rest;
  // As in Docker: the first component is a registry when it looks like a host.
  if (
    slash >= 0 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())
  ) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw refuse(`'${domain}' is not a valid registry host`);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (path === '') throw refuse('the repository name is empty');
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component)) {
      throw refuse(
        `'${component}' is not a valid repository name component (lowercase letters, digits, separators)`,
      );
    }
  }
  if (domain.length + 1 + path.length > MAX_NAME)
    throw refuse(`the name is longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, tag, digest };
}

/** `docker.io/library/busybox` */
export function repoName(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** The normalized string form: `docker.io/library/busybox:latest`, `name@sha256:…`, or both. */
export function formatReference(ref: ImageRef): string {
  return `${repoName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** What the registry is asked for: the digest when pinned, else the tag. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** The tag form stored in RepoTags (`name:tag`), or undefined for digest-only references. */
export function tagOf(ref: ImageRef): string | undefined {
  return ref.tag ? `${repoName(ref)}:${ref.tag}` : undefined;
}

/** Whether a string parses as a reference, without throwing. */
export function tryParseReference(input: string): ImageRef | undefined {
  try {
    return parseReference(input);
  } catch {
    return undefined;
  }
}
