// Layer tars with the entries a hostile image author can put in them (FIFOs, device nodes, big
// files, symlinks out of the root), for images served by the hostile test registry.
import * as tar from 'tar-stream';

export type HostileEntry =
  | { name: string; type: 'directory' }
  | { name: string; type: 'file'; data: Buffer | string }
  | { name: string; type: 'symlink'; linkname: string }
  | { name: string; type: 'fifo' }
  | { name: string; type: 'character-device'; major: number; minor: number };

export async function hostileLayer(entries: HostileEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const data = e.type === 'file' ? Buffer.from(e.data) : Buffer.alloc(0);
    const header: Partial<tar.Header> & { name: string } = {
      name: e.name,
      type: e.type,
      mode: e.type === 'directory' ? 0o755 : 0o644,
      size: data.length,
      ...(e.type === 'symlink' ? { linkname: e.linkname } : {}),
      ...(e.type === 'character-device' ? { devmajor: e.major, devminor: e.minor } : {}),
    };
    await new Promise<void>((resolve, reject) =>
      pack.entry(header, data, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
