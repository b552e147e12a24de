// Layer decompression in a child process, as containerd does with `unpigz`: the inflating runs on
// another core instead of the daemon's main thread. Only the decompression moves: the compressed
// bytes still pass through the daemon first (digest, size, bomb counting, zstd window check) and
// the tar that comes back is parsed and applied by our own code. The pipes are asynchronous with
// back-pressure both ways, so a bomb is held to what the pipes buffer, and a stream destroyed for
// any reason kills its child.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { invalidArgument } from '../common/errors';
import { ZstdFrameWalker } from './zstd_frames';

export type NativeDecompressMode = 'auto' | 'off';

/** The decompressors found on PATH (absolute argv), or nothing for the JavaScript ones. */
export interface NativeDecoders {
  gzip?: string[];
  zstd?: string;
}

// Output is handed on in batches of at least this much: pipes are read 64 KiB at a time, and the
// per-chunk cost of the stream stages behind (limits, digest, tar reader) outweighs one copy.
const BATCH_BYTES = 512 << 10;
const STDERR_KEEP = 2048;

/** Looks the tools up once: `unpigz` (or `pigz -d`) for gzip, `zstd` for zstd. */
export function findNativeDecoders(
  mode: NativeDecompressMode,
  searchPath = process.env.PATH ?? '/usr/bin:/bin',
): NativeDecoders {
  if (mode === 'off') return {};
  const find = (name: string) =>
    searchPath
      .split(':')
      .filter((dir) => path.isAbsolute(dir))
      .map((dir) => path.join(dir, name))
      .find((file) => {
        try {
          fs.accessSync(file, fs.constants.X_OK);
          return fs.statSync(file).isFile();
        } catch {
          return false;
        }
      });
  const unpigz = find('unpigz');
  const pigz = unpigz ? undefined : find('pigz');
  return {
    gzip: unpigz ? [unpigz, '-d', '-c'] : pigz ? [pigz, '-d', '-c'] : undefined,
    zstd: find('zstd'),
  };
}

/** The tools a description of the decompression names, for the log. */
export function describeDecoders(native: NativeDecoders): string {
  const gzip = native.gzip ? path.basename(native.gzip[0]) : 'zlib';
  const zstd = native.zstd ? 'zstd' : 'fzstd';
  return `gzip: ${gzip}, zstd: ${zstd}`;
}

/** argv of the zstd decoder: the memory limit refuses a larger window before allocating it. */
export function zstdArgv(zstd: string, maxWindow: number): string[] {
  return [zstd, '-d', '-c', '-q', `--memory=${Math.ceil(maxWindow / 1024)}KB`];
}

/**
 * A child decompressor as a duplex stream: compressed bytes in (to its stdin), decompressed out
 * (from its stdout). Ends only once the child exited 0; fails with its stderr otherwise.
 */
export class NativeDecoder extends Duplex {
  /** Settles once the child is gone (exited or killed, and its pipes closed). */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly tool: string;
  private stderr = '';
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inputClosed = false;
  private waitingDrain?: () => void;

  constructor(
    argv: string[],
    private readonly what: string,
    private readonly walker?: ZstdFrameWalker,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 2 * BATCH_BYTES });
    this.tool = path.basename(argv[0]);
    // An empty environment: pigz reads options from $PIGZ, zstd from $ZSTD_*.
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    const stdin = this.child.stdin!;
    const stdout = this.child.stdout!;
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.finished(code, signal);
        resolve();
      });
      this.child.once('error', (err) => {
        this.destroy(
          invalidArgument(`Cannot decompress ${this.what}: cannot run ${this.tool}: ${err.message}`),
        );
        resolve();
      });
    });
    // The child may stop reading early (it failed, or ignores trailing bytes): its exit status tells.
    stdin.on('error', () => this.closeInput());
    stdin.on('close', () => this.closeInput());
    stdout.on('data', (data: Buffer) => {
      this.batch.push(data);
      this.batchBytes += data.length;
      if (this.batchBytes >= BATCH_BYTES && !this.pushBatch()) stdout.pause();
    });
    this.child.stderr!.on('data', (data: Buffer) => {
      if (this.stderr.length < STDERR_KEEP) this.stderr += data.toString('utf8').slice(0, STDERR_KEEP);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      this.walker?.walk(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (this.inputClosed || this.child.stdin!.write(chunk)) return done();
    this.waitingDrain = () => done();
    this.child.stdin!.once('drain', () => this.releaseWrite());
  }

  override _final(done: (err?: Error | null) => void): void {
    try {
      this.walker?.end();
    } catch (err) {
      done(err as Error);
      return;
    }
    if (!this.inputClosed) this.child.stdin!.end();
    done();
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    this.releaseWrite();
    done(err);
  }

  private pushBatch(): boolean {
    if (this.batchBytes === 0) return true;
    const data = this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    return this.push(data);
  }

  private closeInput(): void {
    this.inputClosed = true;
    this.releaseWrite();
  }

  private releaseWrite(): void {
    const release = this.waitingDrain;
    this.waitingDrain = undefined;
    release?.();
  }

  private finished(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.destroyed) return;
    if (code === 0) {
      this.pushBatch();
      this.push(null);
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    const why = this.stderr.trim().replace(/\s+/g, ' ');
    this.destroy(
      invalidArgument(`Cannot decompress ${this.what}: ${this.tool} ${how}${why ? `: ${why}` : ''}`),
    );
  }
}
