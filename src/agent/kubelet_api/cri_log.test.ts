import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineSplitter, parseLogLine, renderEntry, tailOffset } from './cri_log';
import { parseLogOptions } from './container_logs';

const line = (s: string) => parseLogLine(Buffer.from(s))!;

describe('CRI log lines', () => {
  it('are read into time, stream, partial tag and content (which may hold spaces)', () => {
    const e = line('2026-11-23T01:02:03.123456789Z stderr F a b  c');
    expect(e).toMatchObject({ time: '2026-11-23T01:02:03.123456789Z', stream: 'stderr', partial: false });
    expect(e.content.toString()).toBe('a b  c');
    expect(line('2026-11-23T01:02:03Z stdout P half').partial).toBe(true);
    expect(parseLogLine(Buffer.from('garbage'))).toBeUndefined();
  });

  it('render as output: a newline after whole lines, none after pieces, timestamps when asked', () => {
    const full = line('2026-11-23T01:02:03Z stdout F hi');
    expect(renderEntry(full, { timestamps: false })?.toString()).toBe('hi\n');
    expect(renderEntry(full, { timestamps: true })?.toString()).toBe('2026-11-23T01:02:03Z hi\n');
    expect(renderEntry(line('2026-11-23T01:02:03Z stdout P hi'), { timestamps: false })?.toString()).toBe(
      'hi',
    );
  });

  it('are dropped when of the other stream or older than since', () => {
    const e = line('2026-11-23T01:02:03Z stdout F hi');
    expect(renderEntry(e, { timestamps: false, stream: 'stderr' })).toBeUndefined();
    expect(
      renderEntry(e, { timestamps: false, sinceMs: Date.parse('2026-11-23T01:02:04Z') }),
    ).toBeUndefined();
  });
});

describe('tailOffset', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-crilog-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function offsets(content: string, n: number): string {
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, content);
    const fd = fs.openSync(file, 'r');
    try {
      return content.slice(tailOffset(fd, content.length, n));
    } finally {
      fs.closeSync(fd);
    }
  }

  it('finds where the last n lines start, with or without a final newline', () => {
    expect(offsets('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(offsets('a\nb\nc', 2)).toBe('b\nc');
    expect(offsets('a\nb\n', 5)).toBe('a\nb\n');
    expect(offsets('a\nb\n', 0)).toBe('');
  });

  it('works across read blocks', () => {
    const big = Array.from({ length: 20000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    expect(offsets(big, 3)).toBe('line 19997\nline 19998\nline 19999\n');
  });
});

describe('LineSplitter', () => {
  it('keeps an unfinished line until its end arrives', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('ab\ncd')).map(String)).toEqual(['ab']);
    expect(s.push(Buffer.from('e\n')).map(String)).toEqual(['cde']);
  });
});

describe('parseLogOptions', () => {
  it('reads the PodLogOptions the API server forwards', () => {
    const o = parseLogOptions(
      new URLSearchParams('follow=true&tailLines=3&timestamps=1&sinceSeconds=10'),
      100_000,
    );
    expect(o).toMatchObject({
      follow: true,
      tailLines: 3,
      timestamps: true,
      previous: false,
      sinceMs: 90_000,
    });
    expect(parseLogOptions(new URLSearchParams('tail=2')).tailLines).toBe(2);
  });

  it('refuses values that make no sense', () => {
    expect(() => parseLogOptions(new URLSearchParams('tailLines=-1'))).toThrow('tailLines');
    expect(() => parseLogOptions(new URLSearchParams('follow=maybe'))).toThrow('follow');
    expect(() =>
      parseLogOptions(new URLSearchParams('sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z')),
    ).toThrow('at most one');
  });
});
