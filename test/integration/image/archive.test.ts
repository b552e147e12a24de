// Import and export for nodes without a registry: an export imports back to the same image, a
// docker-archive (manifest.json + plain layer tars) imports with its tags, and an archive whose
// member names leave it is refused. Root: layers are unpacked with owners and device nodes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar-stream';
import { exportImages, Images, importArchive } from '../../../src/image';
import { buildImage, HostileRegistry, layerTar, sha256 } from './hostile_registry';

let root: string;
let registry: HostileRegistry;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-archive-'));
  registry = new HostileRegistry();
  await registry.start();
});

afterEach(async () => {
  await registry.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const open = (name: string) => Images.open({ stateDir: path.join(root, name) });

async function tarOf(members: Array<{ name: string; data: Buffer | string }>): Promise<string> {
  const pack = tar.pack();
  const file = path.join(root, `archive-${Math.random().toString(36).slice(2)}.tar`);
  const out = fs.createWriteStream(file);
  const done = new Promise<void>((resolve) => out.on('close', () => resolve()));
  pack.pipe(out as unknown as NodeJS.WritableStream);
  for (const m of members) pack.entry({ name: m.name }, Buffer.from(m.data));
  pack.finalize();
  await done;
  return file;
}

describe('image archives', () => {
  it('imports an exported image back with the same id, tags and files', async () => {
    const layers = [
      await layerTar([
        { name: 'etc/', type: 'directory' },
        { name: 'etc/hello', data: 'hi\n' },
      ]),
    ];
    registry.add('arch/img', '1', buildImage(layers, { user: '1002' }));
    const source = await open('a');
    const pulled = await source.pull(`${registry.host}/arch/img:1`);
    const file = path.join(root, 'export.tar');
    await exportImages(source, [pulled], fs.createWriteStream(file));

    const target = await open('b');
    const [imported] = await importArchive(target, fs.createReadStream(file));
    expect(imported.id).toBe(pulled.id);
    expect(imported.repoTags).toEqual(pulled.repoTags);
    expect(imported.config.User).toBe('1002');
    expect(fs.readFileSync(path.join(target.lowerDirs(imported)[0], 'etc/hello'), 'utf8')).toBe('hi\n');
  });

  it('imports a docker-archive with plain layer tars under its RepoTags', async () => {
    const layer = await layerTar([{ name: 'hello', data: 'from docker\n' }]);
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello'] },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    });
    const file = await tarOf([
      { name: 'abc/layer.tar', data: layer },
      { name: 'cfg.json', data: config },
      {
        name: 'manifest.json',
        data: JSON.stringify([
          { Config: 'cfg.json', RepoTags: ['example.com/hello:1'], Layers: ['abc/layer.tar'] },
        ]),
      },
    ]);
    const images = await open('c');
    const [image] = await importArchive(images, fs.createReadStream(file));
    expect(image.id).toBe(sha256(config));
    expect(image.repoTags).toEqual(['example.com/hello:1']);
    expect(fs.readFileSync(path.join(images.lowerDirs(image)[0], 'hello'), 'utf8')).toBe('from docker\n');
  });

  it('refuses an archive member whose name leaves the archive', async () => {
    const file = await tarOf([{ name: '../../escape', data: 'x' }]);
    const images = await open('d');
    await expect(importArchive(images, fs.createReadStream(file))).rejects.toThrow(/'\.\.' are refused/);
    expect(fs.existsSync(path.join(root, 'escape'))).toBe(false);
    expect(fs.readdirSync(path.join(root, 'd/content/ingest'))).toEqual([]);
  });
});
