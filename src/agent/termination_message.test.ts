import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerStatus__Output } from '../gen/runtime/v1/ContainerStatus';
import { TERMINATION_MESSAGE_PATH_ANNOTATION, TERMINATION_MESSAGE_POLICY_ANNOTATION } from './labels';
import { terminationMessage, terminationMessageMount } from './termination_message';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-termmsg-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function exited(file: string, exitCode: number, policy = 'File', logPath = ''): ContainerStatus__Output {
  return {
    exit_code: exitCode,
    reason: exitCode ? 'Error' : 'Completed',
    message: '',
    annotations: {
      [TERMINATION_MESSAGE_PATH_ANNOTATION]: '/dev/termination-log',
      [TERMINATION_MESSAGE_POLICY_ANNOTATION]: policy,
    },
    mounts: [{ container_path: '/dev/termination-log', host_path: file }],
    log_path: logPath,
  } as unknown as ContainerStatus__Output;
}

test('each start gets a new empty world-writable file mounted at the termination message path', () => {
  const a = terminationMessageMount(dir, { name: 'c', image: 'i' });
  const b = terminationMessageMount(dir, { name: 'c', image: 'i', terminationMessagePath: '/tmp/why' });
  expect(a.container_path).toBe('/dev/termination-log');
  expect(b.container_path).toBe('/tmp/why');
  expect(a.host_path).not.toBe(b.host_path);
  expect(path.dirname(a.host_path!)).toBe(path.join(dir, 'containers', 'c'));
  expect(fs.statSync(a.host_path!).mode & 0o777).toBe(0o666);
  expect(fs.readFileSync(a.host_path!, 'utf8')).toBe('');
});

test('the message is the last 4096 bytes of the file', () => {
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, 'x'.repeat(5000) + 'end');
  const message = terminationMessage(exited(file, 1));
  expect(message).toHaveLength(4096);
  expect(message.endsWith('end')).toBe(true);
});

test('FallbackToLogsOnError takes the last 80 lines of the log when the file is empty and the exit failed', () => {
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, '');
  const log = path.join(dir, '0.log');
  const lines = Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00.000000000Z stdout F line ${i}`);
  fs.writeFileSync(log, lines.join('\n') + '\n2026-01-01T00:00:00.000000000Z stderr P part\n');
  const message = terminationMessage(exited(file, 2, 'FallbackToLogsOnError', log));
  expect(message.startsWith('line 21\n')).toBe(true);
  expect(message.endsWith('line 99\npart')).toBe(true);
  // a success keeps the (empty) file's word
  expect(terminationMessage(exited(file, 0, 'FallbackToLogsOnError', log))).toBe('');
  // so does the File policy
  expect(terminationMessage(exited(file, 2, 'File', log))).toBe('');
});
