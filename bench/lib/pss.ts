// A runtime's memory: the proportional set size (PSS, /proc/<pid>/smaps_rollup) of every process
// in the trees of its root pids, minus the bench's own workload processes (they are the same on
// both runtimes). Shared pages are split among their users, so the sum never counts them twice.
import fs from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

export function readProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(entry), ppid, argv });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The pids of the roots and all their descendants, leaving out processes `skip` names. */
export function processTree(
  all: ProcessInfo[],
  roots: number[],
  skip: (p: ProcessInfo) => boolean,
): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const seen = new Set<number>();
  const out: ProcessInfo[] = [];
  const visit = (p: ProcessInfo | undefined) => {
    if (!p || seen.has(p.pid)) return;
    seen.add(p.pid);
    if (!skip(p)) out.push(p);
    for (const c of children.get(p.pid) ?? []) visit(c);
  };
  for (const pid of roots) visit(byPid.get(pid));
  return out;
}

/** PSS of one process in kB; 0 when it is gone. */
export function pssKb(pid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const m = /^Pss:\s+(\d+) kB/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Total PSS in MB of a runtime's process trees, and how many processes it counted. */
export function runtimePss(
  roots: number[],
  skip: (p: ProcessInfo) => boolean,
): { mb: number; processes: number } {
  const tree = processTree(readProcesses(), roots, skip);
  const kb = tree.reduce((sum, p) => sum + pssKb(p.pid), 0);
  return { mb: kb / 1024, processes: tree.length };
}
