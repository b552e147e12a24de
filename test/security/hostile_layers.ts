// Layer tars with the entries a hostile image author can put in them (FIFOs, device nodes, big
// files, symlinks out of the root), for images served by the hostile test registry.
import fs from 'node:fs';
import * as tar from 'tar-stream';

export type HostileEntry =
  | { name: string; type: 'directory' }
  | { name: string; type: 'file'; data: Buffer | string; mode?: number }
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
      mode: e.type === 'directory' ? 0o755 : e.type === 'file' ? (e.mode ?? 0o644) : 0o644,
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

/** A layer with the host's busybox-static as /bin/busybox and the applets the tests run. */
export async function busyboxLayer(
  applets: string[] = ['sh', 'true', 'cat', 'readlink', 'ls', 'grep', 'sleep', 'hostname'],
): Promise<Buffer> {
  return hostileLayer([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', type: 'file', data: fs.readFileSync('/bin/busybox'), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', type: 'file', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/group', type: 'file', data: 'root:x:0:\n' },
    { name: 'proc/', type: 'directory' },
    { name: 'dev/', type: 'directory' },
    { name: 'sys/', type: 'directory' },
    { name: 'tmp/', type: 'directory' },
  ]);
}
