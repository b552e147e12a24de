import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CriLogFile,
  cutRecords,
  formatRecords,
  formatTimestamp,
  MAX_LOG_LINE_BYTES,
  type CriRecord,
} from './cri_log';

const T = 1_700_000_000_123_456_789n;
const STAMP = '2023-11-14T22:13:20.123456789Z';

const text = (records: CriRecord[]) => records.map((r) => `${r.tag} ${r.body.toString()}`);

describe('formatTimestamp', () => {
  it('writes RFC 3339 in UTC with all nine fraction digits', () => {
    expect(formatTimestamp(T)).toBe(STAMP);
    expect(formatTimestamp(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20.000000000Z');
  });
});

describe('cutRecords', () => {
  it('turns each complete line into a full record and consumes its newline', () => {
    const { records, consumed } = cutRecords(Buffer.from('one\ntwo\n'), false);
    expect(text(records)).toEqual(['F one', 'F two']);
    expect(consumed).toBe(8);
  });

  it('leaves an unfinished line in place until the rest arrives', () => {
    const { records, consumed } = cutRecords(Buffer.from('done\nhal'), false);
    expect(text(records)).toEqual(['F done']);
    expect(consumed).toBe(5);
  });

  it('turns an empty line into an empty full record', () => {
    expect(text(cutRecords(Buffer.from('\n'), false).records)).toEqual(['F ']);
  });

  it('cuts a long line into 16 KiB partial records and ends it with a full one', () => {
    const line = 'a'.repeat(MAX_LOG_LINE_BYTES * 2 + 10);
    const { records } = cutRecords(Buffer.from(`${line}\n`), false);
    expect(records.map((r) => r.tag)).toEqual(['P', 'P', 'F']);
    expect(records.map((r) => r.body.length)).toEqual([MAX_LOG_LINE_BYTES, MAX_LOG_LINE_BYTES, 10]);
    expect(Buffer.concat(records.map((r) => r.body)).toString()).toBe(line);
  });

  it('keeps a line of exactly the limit in one full record', () => {
    expect(text(cutRecords(Buffer.from('abcd\n'), false, 4).records)).toEqual(['F abcd']);
  });

  it('waits on a piece of exactly the limit, since its newline may follow', () => {
    expect(cutRecords(Buffer.from('abcd'), false, 4)).toMatchObject({ records: [], consumed: 0 });
    expect(text(cutRecords(Buffer.from('abcde'), false, 4).records)).toEqual(['P abcd']);
  });

  it('writes what is left without a newline at end of stream as a partial record, as containerd does', () => {
    const { records, consumed } = cutRecords(Buffer.from('done\nno newline'), true);
    expect(text(records)).toEqual(['F done', 'P no newline']);
    expect(consumed).toBe(15);
  });

  it('keeps carriage returns and bytes that are not UTF-8 as they are', () => {
    const { records } = cutRecords(Buffer.from([0x61, 0x0d, 0xff, 0x0a]), false);
    expect(records[0].body).toEqual(Buffer.from([0x61, 0x0d, 0xff]));
  });
});

describe('formatRecords', () => {
  it('writes timestamp, stream, tag and content, one line per record', () => {
    const { records } = cutRecords(Buffer.from('out\nmore'), true);
    expect(formatRecords('stderr', records, T).toString()).toBe(
      `${STAMP} stderr F out\n${STAMP} stderr P more\n`,
    );
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

  it('counts the records the disk refuses, keeps going, and says when writing works again', () => {
    // /dev/full answers every write with ENOSPC, as a full filesystem does.
    const calls: string[] = [];
    const full = new CriLogFile('/dev/full', {
      dropped: (err, lines, bytes) =>
        calls.push(`dropped ${lines} ${bytes} ${(err as NodeJS.ErrnoException).code}`),
      resumed: () => calls.push('resumed'),
    });
    full.write(Buffer.from('a\nb\n'));
    full.write(Buffer.from('c\n'));
    full.close();
    expect(calls).toEqual(['dropped 2 4 ENOSPC', 'dropped 1 2 ENOSPC']);
  });
});
