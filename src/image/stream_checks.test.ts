import zlib from 'node:zlib';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AutoDecompress, ExpansionLimit } from './decompress';
import { DigestStream, sha256Of } from './digest';
import { SharedWork } from './shared_work';
import { chainIds } from './snapshots';

async function drain(source: Readable, ...stages: Transform[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await pipeline([source, ...stages, sink]);
  return Buffer.concat(chunks);
}

describe('stream checks', () => {
  const data = Buffer.from('hello layer');

  it('passes bytes whose digest and size match', async () => {
    const out = await drain(
      Readable.from([data]),
      new DigestStream('blob', { digest: sha256Of(data), size: data.length }),
    );
    expect(out.equals(data)).toBe(true);
  });

  it('fails a blob with the wrong digest, naming both digests', async () => {
    const wrong = sha256Of('other');
    await expect(drain(Readable.from([data]), new DigestStream('blob', { digest: wrong }))).rejects.toThrow(
      `expected ${wrong}`,
    );
  });

  it('fails a truncated blob', async () => {
    await expect(
      drain(Readable.from([data]), new DigestStream('blob', { digest: sha256Of(data), size: 100 })),
    ).rejects.toThrow(/truncated/);
  });

  it('decompresses gzip and passes plain tar through, deciding from the bytes', async () => {
    expect((await drain(Readable.from([zlib.gzipSync(data)]), new AutoDecompress())).equals(data)).toBe(true);
    expect((await drain(Readable.from([data]), new AutoDecompress())).equals(data)).toBe(true);
  });

  it('stops a layer that expands past its limit', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(1 << 20));
    await expect(
      drain(
        Readable.from([bomb]),
        new AutoDecompress(),
        new ExpansionLimit(
          { maxRatio: 1, floorBytes: 4096, maxBytes: 1 << 30 },
          () => bomb.length,
          'layer x',
        ),
      ),
    ).rejects.toThrow(/decompression bomb/);
  });

  it('computes OCI chain ids', () => {
    const a = sha256Of('a');
    const b = sha256Of('b');
    expect(chainIds([a, b])).toEqual([a, sha256Of(`${a} ${b}`)]);
  });
});

describe('shared work', () => {
  it('runs work once for concurrent callers of one key', async () => {
    const work = new SharedWork<number>();
    let runs = 0;
    const job = async () => (runs++, 42);
    expect(await Promise.all([work.run('k', undefined, job), work.run('k', undefined, job)])).toEqual([
      42, 42,
    ]);
    expect(runs).toBe(1);
  });

  it('cancels the work only when every caller has given up', async () => {
    const work = new SharedWork<void>();
    let cancelled = false;
    const job = (signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener('abort', () => ((cancelled = true), resolve())));
    const a = new AbortController();
    const b = new AbortController();
    const pa = work.run('k', a.signal, job);
    const pb = work.run('k', b.signal, job);
    a.abort(new Error('a gave up'));
    await expect(pa).rejects.toThrow('a gave up');
    expect(cancelled).toBe(false);
    b.abort(new Error('b gave up'));
    await expect(pb).rejects.toThrow('b gave up');
    expect(cancelled).toBe(true);
  });
});
