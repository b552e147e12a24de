// Reading the operator's files the way their consumers do: YAML documents as kubectl splits them,
// systemd units as key=value lines per section.
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { findTool } from '../../support/tools';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const MANIFESTS = path.join(REPO, 'manifests');

/** A Kubernetes object as far as these tests look at it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every file below `dir` whose name ends with one of `extensions`, relative to the repository. */
export function filesUnder(dir: string, extensions: string[], skip: string[] = []): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (skip.includes(full)) continue;
    if (entry.isDirectory()) found.push(...filesUnder(full, extensions, skip));
    else if (extensions.some((e) => entry.name.endsWith(e))) found.push(path.relative(REPO, full));
  }
  return found.sort();
}

/** The non-empty YAML documents of a repository file; a syntax error fails the caller. */
export function yamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(REPO, file), 'utf8'));
  return docs
    .filter((d) => d.contents !== null)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`Cannot parse '${file}': ${d.errors[0].message}`);
      return d.toJS() as unknown;
    });
}

/** A systemd unit's settings per section; continued lines (trailing backslash) are joined. */
export function parseUnit(file: string): Record<string, Record<string, string[]>> {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8').replace(/\\\n/g, ' ');
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1)
      throw new Error(`Cannot parse '${file}': '${line}' is outside a section or not key=value`);
    const key = line.slice(0, eq).trim();
    (current[key] ??= []).push(
      line
        .slice(eq + 1)
        .trim()
        .replace(/\s+/g, ' '),
    );
  }
  return sections;
}

/** The go binary: on PATH or where the Go tarball installs it. */
export const goBinary = (): string => findTool('go');
