import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { readContainerLog, rfc3339Nano, type ReadLogOptions } from './log_reader';

let dir: string;
let live: string;

const entry = (second: number, text: string, tag = 'F', stream = 'stdout') =>
  `2026-01-01T00:00:${String(second).padStart(2, '0')}.120000000Z ${stream} ${tag} ${text}\n`;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-logread-'));
  live = path.join(dir, '0.log');
  // Oldest first: a gzipped rotation, a plain one, then the live log.
  fs.writeFileSync(`${live}.20260101-000002.gz`, zlib.gzipSync(entry(1, 'one') + entry(2, 'two')));
  fs.writeFileSync(`${live}.20260101-000004`, entry(3, 'three') + entry(4, 'four'));
  fs.writeFileSync(live, entry(5, 'five') + entry(6, 'six'));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function read(opts: Partial<ReadLogOptions>, limitBytes = Infinity, running = false): Promise<string> {
  let out = '';
  let budget = limitBytes;
  const sink = {
    write(chunk: Buffer) {
      const part = chunk.subarray(0, Math.min(chunk.length, budget));
      budget -= part.length;
      out += part.toString();
      return budget > 0;
    },
    closed: () => false,
  };
  await readContainerLog(live, { timestamps: false, follow: false, ...opts }, sink, async () => running);
  return out;
}

describe('reading a container log across rotation', () => {
  test('every file is read in order: gzipped, rotated, live', async () => {
    expect(await read({})).toBe('one\ntwo\nthree\nfour\nfive\nsix\n');
  });

  test('tailLines counts back from the live log into the rotated files, gzipped ones too', async () => {
    expect(await read({ tailLines: 1 })).toBe('six\n');
    expect(await read({ tailLines: 3 })).toBe('four\nfive\nsix\n');
    expect(await read({ tailLines: 5 })).toBe('two\nthree\nfour\nfive\nsix\n');
    expect(await read({ tailLines: 100 })).toBe('one\ntwo\nthree\nfour\nfive\nsix\n');
    expect(await read({ tailLines: 0 })).toBe('');
  });

  test('limitBytes stops in the middle of the series', async () => {
    expect(await read({}, 10)).toBe('one\ntwo\nth');
  });

  test('sinceSeconds drops the entries before the time, whatever file holds them', async () => {
    expect(await read({ sinceMs: Date.parse('2026-01-01T00:00:04Z') })).toBe('four\nfive\nsix\n');
  });

  test('timestamps prefix each logical line once, with the trailing zeros of the fraction cut', async () => {
    fs.writeFileSync(live, entry(5, 'lo', 'P') + entry(5, 'ng') + entry(6, 'err', 'F', 'stderr'));
    expect(await read({ tailLines: 3, timestamps: true })).toBe(
      '2026-01-01T00:00:05.12Z long\n2026-01-01T00:00:06.12Z err\n',
    );
    expect(await read({ tailLines: 3, stream: 'stderr' })).toBe('err\n');
    expect(rfc3339Nano('2026-01-01T00:00:05.000000000Z')).toBe('2026-01-01T00:00:05Z');
    expect(rfc3339Nano('2026-01-01T00:00:05.000001000+02:00')).toBe('2026-01-01T00:00:05.000001+02:00');
  });

  test('an unterminated last line is shown, as the kubelet shows it', async () => {
    fs.appendFileSync(live, entry(7, 'cut').slice(0, -1));
    expect(await read({ tailLines: 2 })).toBe('six\ncut\n');
  });

  test('following goes on in the new live log after a rotation, and ends when the container stops', async () => {
    let out = '';
    let running = true;
    const sink = { write: (c: Buffer) => ((out += c.toString()), true), closed: () => false };
    const done = readContainerLog(
      live,
      { timestamps: false, follow: true, tailLines: 1 },
      sink,
      async () => running,
    );
    const until = async (text: string) => {
      for (let i = 0; i < 100 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(text);
    };
    await until('six');
    fs.appendFileSync(live, entry(7, 'before rotation'));
    fs.renameSync(live, `${live}.20260101-000007`);
    fs.writeFileSync(live, entry(8, 'after rotation'));
    await until('after rotation');
    running = false;
    await done;
    expect(out).toBe('six\nbefore rotation\nafter rotation\n');
  });
});
