// A minimal SPDY/3 client for tests: upgrades a request, opens streams with headers compressed as
// Go's spdystream does (real zlib, the SPDY dictionary, a sync flush per block), and records every
// frame the server sends, by stream.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy/dictionary';
import { FrameParser, dataFrame, synStreamFrame, type Frame } from './spdy/frames';
import { encodeHeaderBlock } from './spdy/headers';

export interface TestSpdyClient {
  status: number;
  protocol: string | undefined;
  open(id: number, headers: Record<string, string>): Promise<void>;
  send(id: number, data: string, fin?: boolean): void;
  frames: Frame[];
  /** Data received on a stream, and whether it was closed with FIN. */
  received(id: number): { data: string; fin: boolean };
  closed: Promise<void>;
  destroy(): void;
}

export function spdyConnect(url: string, protocols: string[]): Promise<TestSpdyClient> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
    });
    req.on('upgrade', (res, socket) => resolve(client(res, socket)));
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`no upgrade: ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

function client(res: http.IncomingMessage, socket: Duplex): TestSpdyClient {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const parser = new FrameParser();
  const frames: Frame[] = [];
  socket.on('data', (c: Buffer) => frames.push(...parser.push(c)));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    status: res.statusCode ?? 0,
    protocol: res.headers['x-stream-protocol-version'] as string | undefined,
    frames,
    closed,
    async open(id, headers) {
      deflate.write(encodeHeaderBlock(headers));
      await new Promise<void>((r) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
      socket.write(synStreamFrame(id, Buffer.concat(out.splice(0)), false));
    },
    send(id, data, fin = false) {
      socket.write(dataFrame(id, Buffer.from(data), fin));
    },
    received(id) {
      const mine = frames.filter((f) => f.kind === 'data' && f.streamId === id) as Extract<
        Frame,
        { kind: 'data' }
      >[];
      return {
        data: Buffer.concat(mine.map((f) => f.data)).toString(),
        fin: mine.some((f) => (f.flags & 1) === 1),
      };
    },
    destroy() {
      deflate.close();
      socket.destroy();
    },
  };
}
