// The operator's documentation points at files of this repository (manifests, sources, other
// pages): a renamed file must not leave a dead link behind.
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './support';

const PAGES = [
  'architecture.md',
  'kind.md',
  'operations.md',
  'security.md',
  'benchmarks.md',
  'status.md',
  'agent.md',
  'kubelet.md',
  'conformance.md',
];

function relativeLinks(text: string): string[] {
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  return links.filter((l) => !/^[a-z]+:/.test(l) && !l.startsWith('#')).map((l) => l.split('#')[0]);
}

function codePaths(text: string): string[] {
  // Repository paths quoted as code: `src/…`, `manifests/…`, `bench/…`, `scripts/…`, `test/…`.
  const found = [...text.matchAll(/`((?:src|manifests|bench|scripts|test)\/[A-Za-z0-9_./-]+)`/g)].map(
    (m) => m[1],
  );
  return found.filter((p) => !p.includes('<') && !p.includes('*'));
}

describe.each(PAGES)('docs/%s', (page) => {
  const text = fs.readFileSync(path.join(REPO, 'docs', page), 'utf8');

  test('links only to files that exist', () => {
    const dead = relativeLinks(text).filter((l) => !fs.existsSync(path.resolve(REPO, 'docs', l)));
    expect(dead).toEqual([]);
  });

  test('names only repository paths that exist', () => {
    const dead = codePaths(text).filter((p) => !fs.existsSync(path.join(REPO, p.replace(/\/$/, ''))));
    expect(dead).toEqual([]);
  });
});
