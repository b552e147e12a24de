import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CriLineSplitter, CriLogFile, formatTimestamp, MAX_LOG_LINE_BYTES, type LogSink } from './cri_log';

class RecordingSink implements LogSink {
  records: string[] = [];
  write(record: Buffer): void {
    this.records.push(record.toString());
  }
}

const T = 1_700_000_000_123_456_789n;
const STAMP = '2023-11-14T22:13:20.123456789Z';

function splitter(sink: LogSink, stream: 'stdout' | 'stderr' = 'stdout', max?: number) {
  return new CriLineSplitter(stream, sink, () => T, max);
}

describe('formatTimestamp', () => {
  it('writes RFC 3339 in UTC with all nine fraction digits', () => {
    expect(formatTimestamp(T)).toBe(STAMP);
    expect(formatTimestamp(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20.000000000Z');
  });
});

describe('CriLineSplitter', () => {
  it('writes each complete line as a full record with stream name and tag', () => {
    const sink = new RecordingSink();
    splitter(sink, 'stderr').push(Buffer.from('one\ntwo\n'));
    expect(sink.records).toEqual([`${STAMP} stderr F one\n`, `${STAMP} stderr F two\n`]);
  });

  it('joins a line that arrives in several chunks', () => {
    const sink = new RecordingSink();
    const s = splitter(sink);
    s.push(Buffer.from('hel'));
    s.push(Buffer.from('lo\nwor'));
    expect(sink.records).toEqual([`${STAMP} stdout F hello\n`]);
    s.push(Buffer.from('ld\n'));
    expect(sink.records[1]).toBe(`${STAMP} stdout F world\n`);
  });

  it('writes an empty line as an empty full record', () => {
    const sink = new RecordingSink();
    splitter(sink).push(Buffer.from('\n'));
    expect(sink.records).toEqual([`${STAMP} stdout F \n`]);
  });

  it('cuts a long line into 16 KiB partial records and ends it with a full one', () => {
    const sink = new RecordingSink();
    const line = 'a'.repeat(MAX_LOG_LINE_BYTES * 2 + 10);
    splitter(sink).push(Buffer.from(`${line}\n`));
    const tags = sink.records.map((r) => r.split(' ')[2]);
    const bodies = sink.records.map((r) =>
      r.slice(r.indexOf(' ', r.indexOf(' ', STAMP.length + 1) + 1) + 1, -1),
    );
    expect(tags).toEqual(['P', 'P', 'F']);
    expect(bodies.map((b) => b.length)).toEqual([MAX_LOG_LINE_BYTES, MAX_LOG_LINE_BYTES, 10]);
    expect(bodies.join('')).toBe(line);
  });

  it('keeps a line of exactly the limit in one full record', () => {
    const sink = new RecordingSink();
    splitter(sink, 'stdout', 4).push(Buffer.from('abcd\n'));
    expect(sink.records).toEqual([`${STAMP} stdout F abcd\n`]);
  });

  it('cuts at the limit even when the line arrives in small chunks', () => {
    const sink = new RecordingSink();
    const s = splitter(sink, 'stdout', 4);
    for (const c of 'abcdefghij\n') s.push(Buffer.from(c));
    expect(sink.records).toEqual([
      `${STAMP} stdout P abcd\n`,
      `${STAMP} stdout P efgh\n`,
      `${STAMP} stdout F ij\n`,
    ]);
  });

  it('writes what is left without a newline at end of stream as a partial record, as containerd does', () => {
    const sink = new RecordingSink();
    const s = splitter(sink);
    s.push(Buffer.from('done\nno newline'));
    s.end();
    expect(sink.records).toEqual([`${STAMP} stdout F done\n`, `${STAMP} stdout P no newline\n`]);
  });

  it('writes nothing at end of stream when the last line was complete', () => {
    const sink = new RecordingSink();
    const s = splitter(sink);
    s.push(Buffer.from('x\n'));
    s.end();
    expect(sink.records).toHaveLength(1);
  });

  it('keeps carriage returns and bytes that are not UTF-8 as they are', () => {
    const sink = new RecordingSink();
    const out: Buffer[] = [];
    new CriLineSplitter('stdout', { write: (b) => out.push(b) }, () => T).push(
      Buffer.from([0x61, 0x0d, 0xff, 0x0a]),
    );
    expect(out[0].subarray(-4)).toEqual(Buffer.from([0x61, 0x0d, 0xff, 0x0a]));
    expect(sink.records).toEqual([]);
  });
});

describe('CriLogFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-crilog-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends records and creates its directory', () => {
    const file = path.join(dir, 'pod', 'c', '0.log');
    const log = new CriLogFile(file);
    log.write(Buffer.from('a\n'));
    log.write(Buffer.from('b\n'));
    log.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('a\nb\n');
  });

  it('writes to a new file at the same path after the old one was renamed and reopened', () => {
    const file = path.join(dir, '0.log');
    const log = new CriLogFile(file);
    log.write(Buffer.from('before\n'));
    fs.renameSync(file, `${file}.1`);
    log.write(Buffer.from('still old\n'));
    log.reopen();
    log.write(Buffer.from('after\n'));
    log.close();
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe('before\nstill old\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('after\n');
  });
});
