// Reading the image's own /etc/passwd and /etc/group. They are the image author's files, read by
// the root daemon on its event loop: small_file.ts resolves them inside the image and refuses
// anything but a small regular file (a FIFO, a device node, a 100 MB file).
import { readSmallFileInRoot } from './small_file';

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

/** The file's text, or '' when the image has no such file; InvalidArgument naming it when it is hostile. */
export function readFileInRoot(rootfsDir: string, relPath: string): string {
  return readSmallFileInRoot(rootfsDir, relPath, `the image's /${relPath.replace(/^\/+/, '')}`) ?? '';
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
