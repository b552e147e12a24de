// Layer entries that try to write outside their snapshot or to destroy it: whiteout names that
// resolve to the directory itself or its parent, '..' and absolute names, and paths through
// symlinks planted by an earlier entry or an earlier layer. The registry is the Node server of
// hostile_registry.ts: docker-registry would serve these layers just the same, but the test
// builds them on the fly. Root: the applier sets owners and makes whiteout device nodes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Images } from '../../src/image';
import { buildImage, EntrySpec, HostileRegistry, layerTar } from '../integration/image/hostile_registry';
import { leftovers } from './image_support';

let root: string;
let outside: string;
let registry: HostileRegistry;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-paths-'));
  outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'keep me');
  registry = new HostileRegistry();
  await registry.start();
});

afterEach(async () => {
  await registry.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const stateDir = () => path.join(root, 'state');
const open = () => Images.open({ stateDir: stateDir(), registry: { retries: 0, freeSpaceReserveBytes: 0 } });

async function publish(name: string, layers: EntrySpec[][]): Promise<string> {
  registry.add(name, '1', buildImage(await Promise.all(layers.map((l) => layerTar(l)))));
  return `${registry.host}/${name}:1`;
}

/** The host outside the snapshot is as it was. */
function outsideUntouched(): void {
  expect(fs.readdirSync(outside)).toEqual(['victim']);
  expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('keep me');
  expect(fs.statSync(path.join(outside, 'victim')).nlink).toBe(1);
}

async function refused(ref: string, message: RegExp): Promise<void> {
  const images = await open();
  await expect(images.pull(ref)).rejects.toThrow(message);
  expect(leftovers(stateDir())).toEqual([]);
  outsideUntouched();
}

describe('whiteouts that name the directory itself or its parent', () => {
  it.each([
    ['.wh.', '.wh.'],
    ['.wh..', '.wh..'],
    ['.wh...', '.wh...'],
    ['etc/.wh.', 'etc/.wh.'],
    ['etc/.wh..', 'etc/.wh..'],
    ['etc/.wh...', 'etc/.wh...'],
  ])("refuses the whiteout entry '%s', naming it", async (name, shown) => {
    const ref = await publish(`wh/${Buffer.from(name).toString('hex')}`, [
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/keep', data: 'x' },
        { name, data: '' },
      ],
    ]);
    const escaped = shown.replace(/[.]/g, '\\.');
    await refused(ref, new RegExp(`layer entry '${escaped}'.*whiteout`));
  });

  it('still applies an ordinary whiteout and an opaque directory', async () => {
    const ref = await publish('wh/ok', [
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/.wh.passwd', data: '' },
        { name: 'etc/.wh..wh..opq', data: '' },
      ],
    ]);
    const images = await open();
    const [fsDir] = images.lowerDirs(await images.pull(ref));
    const st = fs.lstatSync(path.join(fsDir, 'etc/passwd'));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
  });
});

describe('names and symlinks that lead outside', () => {
  it('refuses an absolute entry name', async () => {
    await refused(
      await publish('abs/name', [[{ name: `${outside}/pwned`, data: 'x' }]]),
      /absolute paths are refused/,
    );
  });

  it("refuses a '..' hidden in the middle of a name", async () => {
    await refused(
      await publish('dots/mid', [[{ name: 'a/../../outside/pwned', data: 'x' }]]),
      /'\.\.' are refused/,
    );
  });

  it('refuses a whiteout through a symlink that points outside', async () => {
    const ref = await publish('wh/through', [
      [
        { name: 'evil', type: 'symlink', linkname: outside },
        { name: 'evil/.wh.victim', data: '' },
      ],
    ]);
    await refused(ref, /absolute symlink 'evil'/);
  });

  it('refuses an opaque marker through a symlink that climbs out', async () => {
    const ref = await publish('wh/opaque', [
      [
        { name: 'up', type: 'symlink', linkname: '../../../../../../../..' + outside },
        { name: 'up/.wh..wh..opq', data: '' },
      ],
    ]);
    await refused(ref, /leads above the root/);
  });

  it('ends a symlink loop with an error instead of spinning', async () => {
    const ref = await publish('loop/img', [
      [
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'a' },
        { name: 'a/x', data: 'x' },
      ],
    ]);
    await refused(ref, /too many levels of symlinks/);
  });

  it('hard-links a symlink to outside as the symlink itself, never the file it names', async () => {
    const ref = await publish('link/symlink', [
      [
        { name: 'evil', type: 'symlink', linkname: path.join(outside, 'victim') },
        { name: 'copy', type: 'link', linkname: 'evil' },
      ],
    ]);
    const images = await open();
    const [fsDir] = images.lowerDirs(await images.pull(ref));
    expect(fs.lstatSync(path.join(fsDir, 'copy')).isSymbolicLink()).toBe(true);
    outsideUntouched();
  });

  it.each([
    ['an absolute symlink', () => outside],
    ['a relative symlink that climbs', () => '../../../../../../../..' + outside],
  ])('writes nothing outside through %s planted by an earlier layer', async (_what, target) => {
    const ref = await publish(`layers/${_what.length}`, [
      [{ name: 'evil', type: 'symlink', linkname: target() }],
      [
        { name: 'evil/pwned', data: 'pwned' },
        { name: 'evil/.wh.victim', data: '' },
      ],
    ]);
    const images = await open();
    const [top, bottom] = images.lowerDirs(await images.pull(ref));
    // Each layer is applied into its own empty snapshot: the upper one holds a real directory.
    expect(fs.lstatSync(path.join(top, 'evil')).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(top, 'evil/pwned'), 'utf8')).toBe('pwned');
    expect(fs.lstatSync(path.join(bottom, 'evil')).isSymbolicLink()).toBe(true);
    outsideUntouched();
  });
});
