// Fetches one layer and unpacks it into its snapshot in one pass: the compressed bytes go to the
// content store (digest-checked) while they are decompressed, counted against the bomb limit,
// hashed for the diff id and applied. Nothing is renamed into place until every check passed;
// on any failure the snapshot being built is removed, and so is the blob, except when the
// transfer broke off: then what came is kept, and the next attempt asks the registry for the rest
// and unpacks the kept bytes and the rest as one stream.
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream';
import { crashPoint } from '../common/crash_point';
import { NodeletError } from '../common/errors';
import type { ContentStore, Descriptor, Ingest } from './content_store';
import type { SnapshotStore } from './snapshots';
import { AutoDecompress, ByteCount, ExpansionLimit, ExpansionPolicy } from './decompress';
import type { NativeDecoders } from './native_decompress';
import { FreeSpaceWatch } from './disk_space';
import { DigestStream } from './digest';
import { applyLayer } from './layer_apply';

export interface LayerSource {
  /** Streams the compressed blob (from a registry or an archive). */
  open(desc: Descriptor, signal: AbortSignal): Promise<Readable>;
  /**
   * Streams the blob from byte `offset` on, when the source can resume; the answer's offset says
   * where its stream really starts (0 when the source sent the whole blob after all).
   */
  openFrom?(
    desc: Descriptor,
    signal: AbortSignal,
    offset: number,
  ): Promise<{ stream: Readable; offset: number }>;
}

export interface UnpackOptions {
  content: ContentStore;
  snapshots: SnapshotStore;
  expansion: ExpansionPolicy;
  /** Free space the unpack leaves on the snapshots' filesystem; 0 for no check. */
  freeSpaceReserveBytes: number;
  /** Child-process decompressors (unpigz, zstd) to use; the JavaScript ones when absent. */
  native?: NativeDecoders;
  onBytes?: (n: number) => void;
}

/** Copies every chunk into `sink` on the way through, and ends only once the sink has. */
function teeInto(ingest: Ingest, onBytes?: (n: number) => void): Transform {
  const sink: Writable = ingest.sink;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes?.(chunk.length);
      if (sink.write(chunk)) cb(null, chunk);
      else sink.once('drain', () => cb(null, chunk));
    },
    flush(cb) {
      sink.end();
      ingest.done.then(() => cb(), cb);
    },
  });
  ingest.done.catch((err: Error) => tee.destroy(err));
  return tee;
}

export async function unpackLayer(
  layer: Descriptor,
  ids: { diffId: string; chainId: string },
  source: LayerSource,
  options: UnpackOptions,
  signal: AbortSignal,
): Promise<void> {
  const { content, snapshots } = options;
  const build = await snapshots.begin(ids.chainId);
  let ingest: Ingest | undefined;
  let decompress: AutoDecompress | undefined;
  try {
    const stages: Array<Readable | Transform> = [];
    if (await content.has(layer.digest)) {
      stages.push(content.stream(layer.digest));
    } else {
      const expected = { digest: layer.digest, size: layer.size };
      const resumable = { resumable: source.openFrom !== undefined };
      ingest = await content.ingest(expected, `layer ${layer.digest}`, resumable);
      const answer = source.openFrom
        ? await source.openFrom(layer, signal, ingest.offset)
        : { stream: await source.open(layer, signal), offset: 0 };
      if (answer.offset !== ingest.offset) {
        // The source sent the whole blob (a registry without ranges): the kept bytes go.
        await ingest.abort();
        ingest = await content.ingest(expected, `layer ${layer.digest}`, resumable);
      }
      const tee = teeInto(ingest, options.onBytes);
      if (ingest.offset === 0) stages.push(answer.stream, tee);
      else
        stages.push(
          joined(
            ingest.existing(),
            pipeline(answer.stream, tee, () => undefined),
          ),
        );
    }
    const what = `layer ${layer.digest}`;
    const diff = new DigestStream(`the uncompressed layer ${layer.digest}`, { digest: ids.diffId });
    const compressed = new ByteCount();
    decompress = new AutoDecompress(what, { native: options.native });
    stages.push(
      compressed,
      decompress,
      new ExpansionLimit(options.expansion, () => compressed.bytes, what),
      new FreeSpaceWatch(snapshots.root, options.freeSpaceReserveBytes, what),
      diff,
    );
    let streamed!: Promise<void>;
    const tarStream = (() => {
      let settle!: (err?: Error | null) => void;
      streamed = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
      return pipeline(stages as unknown as [Readable, Transform], settle) as unknown as Readable;
    })();
    const [applied, piped] = await Promise.allSettled([applyLayer(build.fs, tarStream), streamed]);
    // The stream's own error (digest, size, bomb) explains more than the applier's "premature close".
    if (piped.status === 'rejected' && !isPrematureClose(piped.reason)) throw piped.reason;
    if (applied.status === 'rejected') throw applied.reason;
    if (piped.status === 'rejected') throw piped.reason;
    crashPoint('pull-image/layer-applied');
    if (ingest) await ingest.commit();
    await build.commit();
    crashPoint('pull-image/after-layer');
  } catch (err) {
    // A native decompressor must be gone before the pull answers: no child outlives its layer.
    decompress?.destroy();
    await decompress?.settled();
    await (brokeOff(err) ? ingest?.keep() : ingest?.abort());
    await build.abort();
    throw err;
  }
}

/** The transfer stopped (connection lost, registry silent, call cancelled): the bytes so far are good to keep. */
function brokeOff(err: unknown): boolean {
  return (
    err instanceof NodeletError &&
    (err.kind === 'Unavailable' || err.kind === 'DeadlineExceeded' || err.kind === 'Cancelled')
  );
}

/** The kept bytes, then the rest as it arrives, as one stream. */
function joined(first: Readable, rest: Readable): Readable {
  return Readable.from(
    (async function* () {
      yield* first;
      yield* rest;
    })(),
  );
}

function isPrematureClose(err: unknown): boolean {
  return (err as { code?: string })?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
