// Reads an image archive (an OCI layout or a docker-archive, as `docker save` writes them) into a
// temporary directory, refusing names that would leave it, and resolves the symlinks older docker
// versions use for repeated layers. Only what an archive needs: regular files, dirs, symlinks.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { z } from 'zod';
import { invalidArgument } from '../common/errors';
import { parseWith } from '../common/schema';
import { entryComponents, entryLocation } from './layer_paths';

export class ArchiveDir {
  private readonly links = new Map<string, string>();

  constructor(readonly root: string) {}

  /** Unpacks the archive stream into root. */
  async load(source: Readable): Promise<void> {
    const extract = tar.extract();
    source.on('error', (err) => extract.destroy(err));
    source.pipe(extract as unknown as NodeJS.WritableStream);
    for await (const entry of extract) {
      const { name, type, linkname } = entry.header;
      const body = entry as unknown as AsyncIterable<Buffer> & { resume(): void };
      const loc = entryLocation(this.root, name);
      if (loc && type === 'file') {
        const out = fs.createWriteStream(loc.target, { mode: 0o600 });
        for await (const chunk of body)
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
        continue;
      }
      if (loc && type === 'directory') fs.mkdirSync(loc.target, { recursive: true });
      if (loc && type === 'symlink') this.links.set(entryComponents(name).join('/'), linkname ?? '');
      body.resume();
    }
  }

  /** The host path of an archive member, following the archive's own symlinks inside it. */
  pathOf(member: string): string {
    let parts = entryComponents(member);
    for (let hops = 0; hops < 40; hops++) {
      const key = parts.join('/');
      const target = this.links.get(key);
      if (target === undefined) break;
      const joined = path.posix.normalize(path.posix.join(path.posix.dirname(key), target));
      if (target.startsWith('/') || joined.startsWith('..')) {
        throw invalidArgument(`Cannot import '${member}': its symlink points outside the archive`);
      }
      parts = entryComponents(joined);
    }
    return path.join(this.root, ...parts);
  }

  has(member: string): boolean {
    return fs.existsSync(this.pathOf(member));
  }

  /** A JSON member of the archive, parsed with `schema`: a field of the wrong shape is named. */
  readJson<S extends z.ZodTypeAny>(member: string, schema: S): z.output<S> {
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(this.pathOf(member), 'utf8'));
    } catch (err) {
      throw invalidArgument(
        `Cannot import the archive: '${member}' is missing or not JSON (${(err as Error).message})`,
      );
    }
    return parseWith(schema, doc, (issues) =>
      invalidArgument(`Cannot import the archive: '${member}' ${issues}`),
    );
  }
}
