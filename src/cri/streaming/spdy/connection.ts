// The server side of a SPDY/3.1 connection as Kubernetes streaming uses it: the client opens every
// stream (SYN_STREAM with its headers), the server answers each with SYN_REPLY, and both send DATA
// until FIN. PINGs are echoed. No flow control: spdystream never sends WINDOW_UPDATE or SETTINGS
// and ignores ours, so back-pressure is TCP's (the socket is paused while a stream's reader is full).
//
// The transport is any Duplex: a TCP/TLS socket after the HTTP upgrade, or a WebSocket stream
// (port-forward's "SPDY/3.1+portforward.k8s.io" tunnels these frames in binary messages).
import { Duplex } from 'node:stream';
import type { Logger } from '../../../common/log';
import {
  FLAG_FIN,
  FrameParser,
  FrameType,
  RstStatus,
  dataFrame,
  goAwayFrame,
  headerBlockOf,
  pingFrame,
  rstStreamFrame,
  streamIdOf,
  synReplyFrame,
  type Frame,
} from './frames';
import { HeaderCompressor, HeaderDecompressor, type HeaderMap } from './headers';

const MAX_DATA_CHUNK = 32 * 1024;

/** One client-opened stream: readable is what the client sends, writable what it receives. */
export class SpdyStream extends Duplex {
  constructor(
    readonly id: number,
    readonly headers: HeaderMap,
    private readonly conn: SpdyConnection,
  ) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    this.conn.resumeInput();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.conn.sendData(this.id, chunk, false, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.conn.sendData(this.id, Buffer.alloc(0), true, done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.conn.forget(this.id, err !== null);
    done(err);
  }
}

export class SpdyConnection {
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private queue: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly io: Duplex,
    private readonly onStream: (stream: SpdyStream) => void,
    private readonly log: Logger,
  ) {
    io.on('data', (chunk: Buffer) => {
      for (const frame of this.parser.push(chunk)) {
        this.queue = this.queue.then(() => this.handle(frame)).catch((err: unknown) => this.fail(err));
      }
    });
    io.on('error', (err) => this.log.debug({ err }, 'streaming connection error'));
    io.on('close', () => this.teardown());
    io.on('end', () => this.teardown());
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Runs once the connection is gone, whichever side ended it. */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeListeners.push(fn);
  }

  /** GOAWAY, then end the transport once what is queued has been written. */
  close(): void {
    if (this.closed) return;
    this.write(goAwayFrame(this.lastStreamId));
    this.io.end();
    this.teardown();
  }

  resumeInput(): void {
    if (this.io.isPaused()) this.io.resume();
  }

  sendData(id: number, data: Buffer, fin: boolean, done: (err?: Error | null) => void): void {
    if (this.closed) return done(new Error('the streaming connection is closed'));
    let ok = true;
    for (let pos = 0; pos < data.length || (pos === 0 && data.length === 0); pos += MAX_DATA_CHUNK) {
      const piece = data.subarray(pos, pos + MAX_DATA_CHUNK);
      const last = pos + MAX_DATA_CHUNK >= data.length;
      ok = this.write(dataFrame(id, piece, fin && last));
      if (data.length === 0) break;
    }
    if (ok) done();
    else this.io.once('drain', () => done());
  }

  forget(id: number, reset: boolean): void {
    if (this.streams.delete(id) && reset && !this.closed) this.write(rstStreamFrame(id, RstStatus.Cancel));
  }

  private write(frame: Buffer): boolean {
    if (this.io.destroyed || this.io.writableEnded) return true;
    return this.io.write(frame);
  }

  private async handle(frame: Frame): Promise<void> {
    if (frame.kind === 'data')
      return this.handleData(frame.streamId, frame.data, (frame.flags & FLAG_FIN) !== 0);
    const { type, payload, flags } = frame;
    switch (type) {
      case FrameType.SynStream:
        return this.handleSynStream(payload, (flags & FLAG_FIN) !== 0);
      case FrameType.Headers:
        // Extra headers on an open stream: nothing in Kubernetes streaming needs them, but the
        // shared inflate context must still see the block.
        await this.decompressor.decompress(headerBlockOf(type, payload));
        return;
      case FrameType.RstStream:
        this.streams.get(streamIdOf(payload))?.destroy();
        return;
      case FrameType.Ping:
        this.write(pingFrame(payload.readUInt32BE(0)));
        return;
      case FrameType.GoAway:
        this.log.debug('streaming client sent GOAWAY');
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown types: no flow control here (see the top).
        return;
    }
  }

  private async handleSynStream(payload: Buffer, fin: boolean): Promise<void> {
    const id = streamIdOf(payload);
    const headers = await this.decompressor.decompress(headerBlockOf(FrameType.SynStream, payload));
    if (this.closed) return;
    if (this.streams.has(id) || id <= this.lastStreamId) {
      this.write(rstStreamFrame(id, RstStatus.ProtocolError));
      return;
    }
    this.lastStreamId = id;
    const stream = new SpdyStream(id, headers, this);
    this.streams.set(id, stream);
    this.write(synReplyFrame(id, this.compressor.compress({}), false));
    if (fin) stream.push(null);
    this.onStream(stream);
  }

  private handleData(id: number, data: Buffer, fin: boolean): void {
    const stream = this.streams.get(id);
    if (!stream) {
      this.write(rstStreamFrame(id, RstStatus.InvalidStream));
      return;
    }
    if (data.length > 0 && !stream.push(data)) this.io.pause();
    if (fin) stream.push(null);
  }

  private fail(err: unknown): void {
    this.log.warn({ err }, 'Cannot read the streaming connection: closing it');
    this.io.destroy();
    this.teardown();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy();
    this.streams.clear();
    this.decompressor.close();
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}
