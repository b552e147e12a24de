export { SpdyConnection, SpdyStream } from './connection';
export { FrameParser, FrameType, dataFrame, synStreamFrame, pingFrame, type Frame } from './frames';
export { HeaderCompressor, HeaderDecompressor, encodeHeaderBlock, decodeHeaderBlock } from './headers';
export type { HeaderMap } from './headers';
