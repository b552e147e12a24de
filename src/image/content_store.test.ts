import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContentStore } from './content_store';

const blob = crypto.randomBytes(100_000);
const expected = {
  digest: `sha256:${crypto.createHash('sha256').update(blob).digest('hex')}`,
  size: blob.length,
};

let root: string;
let store: ContentStore;
beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'content-store-'));
  store = new ContentStore(root);
  await store.open();
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('a kept resumable ingest is continued from its length and the whole blob is verified', async () => {
  const first = await store.ingest(expected, 'the blob', { resumable: true });
  expect(first.offset).toBe(0);
  await new Promise<void>((resolve) => first.sink.write(blob.subarray(0, 40_000), () => resolve()));
  await new Promise((r) => setTimeout(r, 50)); // the file stream writes what the check passed on
  await first.keep();

  const second = await store.ingest(expected, 'the blob', { resumable: true });
  expect(second.offset).toBe(40_000);
  expect(await readAll(second.existing())).toEqual(blob.subarray(0, 40_000));
  await pipeline(Readable.from([blob.subarray(40_000)]), second.sink);
  await second.commit();
  expect(await store.read(expected.digest)).toEqual(blob);
  expect(fs.readdirSync(store.ingestDir)).toEqual([]);
});

test('a second resumable ingest of a digest in use starts its own file', async () => {
  const first = await store.ingest(expected, 'the blob', { resumable: true });
  const second = await store.ingest(expected, 'the blob', { resumable: true });
  for (const ingest of [first, second]) ingest.sink.write(blob.subarray(0, 10));
  await new Promise((r) => setTimeout(r, 50));
  expect(fs.readdirSync(store.ingestDir)).toHaveLength(2);
  await second.keep(); // not resumable: removed
  await first.abort();
  expect(fs.readdirSync(store.ingestDir)).toEqual([]);
});

test('kept bytes that do not make the blob fail the check, and abort removes them', async () => {
  const first = await store.ingest(expected, 'the blob', { resumable: true });
  await new Promise<void>((resolve) => first.sink.write(Buffer.alloc(1000), () => resolve()));
  await new Promise((r) => setTimeout(r, 50));
  await first.keep();
  const second = await store.ingest(expected, 'the blob', { resumable: true });
  await expect(pipeline(Readable.from([blob.subarray(1000)]), second.sink)).rejects.toThrow(/its digest is/);
  await second.abort();
  expect(fs.readdirSync(store.ingestDir)).toEqual([]);
  expect(await store.has(expected.digest)).toBe(false);
});

test('garbage collection of partials takes only those idle past the limit and not in use', async () => {
  const kept = await store.ingest(expected, 'the blob', { resumable: true });
  await new Promise<void>((resolve) => kept.sink.write(blob.subarray(0, 1000), () => resolve()));
  await new Promise((r) => setTimeout(r, 50));
  await kept.keep();
  await store.removeStalePartials(60_000);
  expect(fs.readdirSync(store.ingestDir)).toHaveLength(1);
  const inUse = await store.ingest(expected, 'the blob', { resumable: true });
  await store.removeStalePartials(0);
  expect(fs.readdirSync(store.ingestDir)).toHaveLength(1);
  await inUse.keep();
  await new Promise((r) => setTimeout(r, 5));
  await store.removeStalePartials(0);
  expect(fs.readdirSync(store.ingestDir)).toEqual([]);
});
