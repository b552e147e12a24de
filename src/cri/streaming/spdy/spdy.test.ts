import { Duplex, PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import pino from 'pino';
import { SpdyConnection, type SpdyStream } from './connection';
import { SPDY3_DICTIONARY } from './dictionary';
import {
  FrameParser,
  FrameType,
  dataFrame,
  headerBlockOf,
  pingFrame,
  streamIdOf,
  synStreamFrame,
} from './frames';
import { HeaderCompressor, HeaderDecompressor, encodeHeaderBlock } from './headers';

const log = pino({ level: 'silent' });

/** A client's header compressor as Go's spdystream has it: real zlib, dictionary, sync flush. */
function goLikeCompressor() {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  return {
    async compress(headers: Record<string, string>): Promise<Buffer> {
      deflate.write(encodeHeaderBlock(headers));
      await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
      return Buffer.concat(out.splice(0));
    },
    close: () => deflate.close(),
  };
}

function pair() {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverIo = Duplex.from({ readable: toServer, writable: toClient });
  const parser = new FrameParser();
  const received: ReturnType<FrameParser['push']> = [];
  toClient.on('data', (c: Buffer) => received.push(...parser.push(c)));
  return { serverIo, send: (b: Buffer) => toServer.write(b), received };
}

const tick = () => new Promise((r) => setTimeout(r, 20));
/** Waits until `done` holds: header blocks inflate on libuv's pool, so no fixed pause is enough under load. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 10_000) throw new Error(`still waiting for ${what} after 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SPDY/3 frames', () => {
  it('are split out of a byte stream that arrives in arbitrary pieces', () => {
    const bytes = Buffer.concat([
      dataFrame(1, Buffer.from('hello'), false),
      pingFrame(7),
      dataFrame(3, Buffer.alloc(0), true),
    ]);
    const parser = new FrameParser();
    const frames = [...bytes].flatMap((b) => parser.push(Buffer.from([b])));
    expect(frames).toEqual([
      { kind: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') },
      { kind: 'control', type: FrameType.Ping, flags: 0, payload: Buffer.from([0, 0, 0, 7]) },
      { kind: 'data', streamId: 3, flags: 1, data: Buffer.alloc(0) },
    ]);
    expect(parser.buffered).toBe(0);
  });
});

describe('SPDY/3 header blocks', () => {
  it('written by us inflate with standard zlib and the SPDY dictionary, block after block', () => {
    const c = new HeaderCompressor();
    const blocks = [c.compress({ streamtype: 'error' }), c.compress({ StreamType: 'stdout', port: '80' })];
    const raw = zlib.inflateSync(Buffer.concat(blocks), {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    expect(raw).toEqual(
      Buffer.concat([
        encodeHeaderBlock({ streamtype: 'error' }),
        encodeHeaderBlock({ streamtype: 'stdout', port: '80' }),
      ]),
    );
  });

  it('compressed by a peer with one zlib context are read back in order', async () => {
    const peer = goLikeCompressor();
    const d = new HeaderDecompressor();
    const a = await peer.compress({ streamtype: 'error' });
    const b = await peer.compress({ streamtype: 'data', port: '8080', requestid: '0' });
    expect(await d.decompress(a)).toEqual({ streamtype: 'error' });
    expect(await d.decompress(b)).toEqual({ streamtype: 'data', port: '8080', requestid: '0' });
    peer.close();
    d.close();
  });
});

describe('SpdyConnection', () => {
  it('answers each stream the client opens, carries data both ways and half-closes', async () => {
    const { serverIo, send, received } = pair();
    const streams: SpdyStream[] = [];
    const conn = new SpdyConnection(serverIo, (s) => streams.push(s), log);
    const peer = goLikeCompressor();
    send(synStreamFrame(1, await peer.compress({ streamtype: 'stdin' }), false));
    send(dataFrame(1, Buffer.from('to server'), true));
    await until(() => streams.length > 0 && received.length > 0, 'the stream and its SYN_REPLY');
    expect(streams.map((s) => [s.id, s.headers])).toEqual([[1, { streamtype: 'stdin' }]]);
    expect(received[0]).toMatchObject({ kind: 'control', type: FrameType.SynReply });
    expect(streamIdOf((received[0] as { payload: Buffer }).payload)).toBe(1);

    const chunks: Buffer[] = [];
    streams[0].on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => streams[0].once('end', r));
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('to server');

    streams[0].end('to client');
    await until(() => received.filter((f) => f.kind === 'data').length >= 2, 'the data and its FIN');
    const data = received.filter((f) => f.kind === 'data');
    expect(data.map((f) => [f.streamId, f.data.toString(), f.flags])).toEqual([
      [1, 'to client', 0],
      [1, '', 1],
    ]);
    peer.close();
    conn.close();
  });

  it('echoes pings and sends GOAWAY when it closes', async () => {
    const { serverIo, send, received } = pair();
    const conn = new SpdyConnection(serverIo, () => undefined, log);
    send(pingFrame(5));
    await tick();
    conn.close();
    await tick();
    expect(received.map((f) => (f.kind === 'control' ? f.type : 'data'))).toEqual([
      FrameType.Ping,
      FrameType.GoAway,
    ]);
  });

  it('resets data sent on a stream that was never opened', async () => {
    const { serverIo, send, received } = pair();
    const conn = new SpdyConnection(serverIo, () => undefined, log);
    send(dataFrame(9, Buffer.from('x'), false));
    await tick();
    expect(received[0]).toMatchObject({ kind: 'control', type: FrameType.RstStream });
    conn.close();
  });

  it('reads the headers of a stream opened by SYN_STREAM at the right offset', () => {
    const frame = new FrameParser().push(synStreamFrame(3, Buffer.from('HB'), true))[0];
    expect(frame.kind === 'control' && headerBlockOf(frame.type, frame.payload).toString()).toBe('HB');
  });
});
