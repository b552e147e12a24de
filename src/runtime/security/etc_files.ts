// Reading the image's own /etc/passwd and /etc/group. Files are opened through openInRoot, so
// symlinks in the image resolve inside the image and never reach the host's files.
import fs from 'node:fs';
import { isSysError } from '../sys/errors';
import { openInRoot } from '../sys/openat2';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The file's text, or '' when the image has no such file. */
export function readFileInRoot(rootfsDir: string, relPath: string): string {
  let fd: number;
  try {
    fd = openInRoot(rootfsDir, relPath);
  } catch (err) {
    if (isSysError(err, 'ENOENT') || isSysError(err, 'ENOTDIR')) return '';
    throw err;
  }
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

const toId = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined);

// Blank lines, comments and NIS "+"/"-" lines are skipped, as glibc's parser does.
function records(text: string, minFields: number): string[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^[#+-]/.test(line))
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= minFields);
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of records(text, 4)) {
    const uid = toId(f[2]);
    const gid = toId(f[3]);
    if (uid !== undefined && gid !== undefined) out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of records(text, 3)) {
    const gid = toId(f[2]);
    const members = (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    if (gid !== undefined) out.push({ name: f[0], gid, members });
  }
  return out;
}
