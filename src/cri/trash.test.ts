import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/log';
import { discardDir, emptyTrash, trashEmptied, trashOf } from './trash';

describe('the trash', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-trash-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('a discarded directory leaves its place at once and is gone once the removals ended', async () => {
    const dir = path.join(root, 'containers', 'abc');
    fs.mkdirSync(path.join(dir, 'upper', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'upper', 'deep', 'file'), 'x');
    discardDir(createLogger('fatal'), root, dir);
    expect(fs.existsSync(dir)).toBe(false);
    await trashEmptied();
    expect(fs.readdirSync(trashOf(root))).toEqual([]);
  });

  test('discarding a directory that is already gone does nothing', async () => {
    discardDir(createLogger('fatal'), root, path.join(root, 'containers', 'gone'));
    await trashEmptied();
    expect(fs.existsSync(path.join(root, 'containers', 'gone'))).toBe(false);
  });

  test('emptyTrash removes what a killed daemon left in the trash and names it', () => {
    fs.mkdirSync(path.join(trashOf(root), 'abc-0011', 'upper'), { recursive: true });
    expect(emptyTrash(root)).toEqual([path.join(trashOf(root), 'abc-0011')]);
    expect(fs.readdirSync(trashOf(root))).toEqual([]);
    expect(emptyTrash(path.join(root, 'none'))).toEqual([]);
  });
});
