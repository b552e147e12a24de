// SPDY/3 framing (draft-mbelshe-httpbis-spdy-00 §2.2), as moby/spdystream speaks it: the frames
// Kubernetes streaming uses. A control frame starts with the C bit, version 3 and a type; a data
// frame with a 31-bit stream id. Both carry 8 flag bits and a 24-bit length.
const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

/** RST_STREAM status codes (§2.4.2). */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  Cancel: 5,
  InternalError: 6,
};

export type Frame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

/** Splits a byte stream into frames; keeps an unfinished frame until its remaining bytes arrive. */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Frame[] = [];
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    let pos = 0;
    while (buf.length - pos >= 8) {
      const length = buf.readUIntBE(pos + 5, 3);
      if (buf.length - pos < 8 + length) break;
      const flags = buf[pos + 4];
      const body = buf.subarray(pos + 8, pos + 8 + length);
      if (buf[pos] & 0x80) {
        frames.push({ kind: 'control', type: buf.readUInt16BE(pos + 2), flags, payload: body });
      } else {
        frames.push({ kind: 'data', streamId: buf.readUInt32BE(pos) & 0x7fffffff, flags, data: body });
      }
      pos += 8 + length;
    }
    buf = buf.subarray(pos);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
    return frames;
  }

  get buffered(): number {
    return this.pendingBytes;
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(data.length, 4);
  head[4] = fin ? FLAG_FIN : 0;
  return data.length === 0 ? head : Buffer.concat([head, data]);
}

function withStreamId(streamId: number, rest: Buffer): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(streamId & 0x7fffffff, 0);
  return Buffer.concat([id, rest]);
}

/** headerBlock is already compressed (see headers.ts). */
export function synStreamFrame(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const fixed = Buffer.alloc(6); // associated-to stream id 0, priority 0, slot 0
  return controlFrame(
    FrameType.SynStream,
    fin ? FLAG_FIN : 0,
    withStreamId(streamId, Buffer.concat([fixed, headerBlock])),
  );
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  return controlFrame(FrameType.SynReply, fin ? FLAG_FIN : 0, withStreamId(streamId, headerBlock));
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return controlFrame(FrameType.RstStream, 0, body);
}

export function pingFrame(id: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(id >>> 0, 0);
  return controlFrame(FrameType.Ping, 0, body);
}

export function goAwayFrame(lastGoodStreamId: number, status = 0): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return controlFrame(FrameType.GoAway, 0, body);
}

/** The stream id of SYN_STREAM, SYN_REPLY, RST_STREAM and HEADERS payloads. */
export function streamIdOf(payload: Buffer): number {
  return payload.readUInt32BE(0) & 0x7fffffff;
}

/** Where the compressed header block starts in a control frame's payload. */
export function headerBlockOf(type: number, payload: Buffer): Buffer {
  return payload.subarray(type === FrameType.SynStream ? 10 : 4);
}
