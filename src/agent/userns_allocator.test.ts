import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserNamespaceAllocator, USERNS_FILE } from './userns_allocator';

let podsDir: string;
beforeEach(() => {
  podsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'userns-alloc-'));
});
afterEach(() => fs.rmSync(podsDir, { recursive: true, force: true }));

const BLOCK = 65536;

test('each pod gets its own 65536-aligned block, never block 0, and keeps it when asked again', () => {
  const a = new UserNamespaceAllocator(podsDir);
  expect(a.podRange('pod-a')).toEqual({ hostId: BLOCK, length: BLOCK });
  expect(a.podRange('pod-b')).toEqual({ hostId: 2 * BLOCK, length: BLOCK });
  expect(a.podRange('pod-a')).toEqual({ hostId: BLOCK, length: BLOCK });
});

test('the block is written to the pod directory in the kubelet’s format', () => {
  new UserNamespaceAllocator(podsDir).podRange('pod-a');
  const file = path.join(podsDir, 'pod-a', USERNS_FILE);
  const mapping = [{ hostId: BLOCK, containerId: 0, length: BLOCK }];
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ uidMappings: mapping, gidMappings: mapping });
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
});

test('a restarted agent recovers what the pods on disk hold and hands out other blocks', () => {
  const first = new UserNamespaceAllocator(podsDir);
  first.podRange('pod-a');
  first.podRange('pod-b');
  first.release('pod-a');
  fs.rmSync(path.join(podsDir, 'pod-a'), { recursive: true });
  fs.mkdirSync(path.join(podsDir, 'pod-without-userns'));

  const again = new UserNamespaceAllocator(podsDir);
  expect(again.recover()).toEqual([]);
  expect(again.podRange('pod-b')).toEqual({ hostId: 2 * BLOCK, length: BLOCK });
  expect(again.podRange('pod-c')).toEqual({ hostId: BLOCK, length: BLOCK });
  expect(again.podRange('pod-d')).toEqual({ hostId: 3 * BLOCK, length: BLOCK });
});

test('files it cannot use are reported, naming the pod, and their blocks are not taken', () => {
  const write = (uid: string, content: string) => {
    fs.mkdirSync(path.join(podsDir, uid));
    fs.writeFileSync(path.join(podsDir, uid, USERNS_FILE), content);
  };
  const m = (hostId: number, length = BLOCK) => [{ hostId, containerId: 0, length }];
  write('garbled', '{');
  write('unaligned', JSON.stringify({ uidMappings: m(BLOCK + 1), gidMappings: m(BLOCK + 1) }));
  write('host-users', JSON.stringify({ uidMappings: m(0), gidMappings: m(0) }));
  write('split', JSON.stringify({ uidMappings: m(BLOCK), gidMappings: m(2 * BLOCK) }));
  const problems = new UserNamespaceAllocator(podsDir).recover();
  expect(problems.map((p) => p.uid).sort()).toEqual(['garbled', 'host-users', 'split', 'unaligned']);
  expect(problems.find((p) => p.uid === 'host-users')?.problem).toMatch(/outside the node's range/);
});

test('when every block is in use the next pod is refused; a released block is handed out again', () => {
  const a = new UserNamespaceAllocator(podsDir, { firstId: 4 * BLOCK, length: 2 * BLOCK });
  expect(a.podRange('p1').hostId).toBe(4 * BLOCK);
  expect(a.podRange('p2').hostId).toBe(5 * BLOCK);
  expect(() => a.podRange('p3')).toThrow(/no free user namespace id range: all 2 blocks/);
  expect(fs.existsSync(path.join(podsDir, 'p3', USERNS_FILE))).toBe(false);
  a.release('p1');
  expect(a.podRange('p3').hostId).toBe(4 * BLOCK);
});

test('a range that is not block-aligned or holds the host’s own ids is refused', () => {
  expect(() => new UserNamespaceAllocator(podsDir, { firstId: 0, length: BLOCK })).toThrow(/65536-aligned/);
  expect(() => new UserNamespaceAllocator(podsDir, { firstId: 1000, length: BLOCK })).toThrow(
    /65536-aligned/,
  );
});
