// The decompressor processes (unpigz, pigz, zstd) a process has as children, zombies included:
// a refused or failed layer must leave none behind.
import fs from 'node:fs';

const DECODERS = new Set(['unpigz', 'pigz', 'zstd']);

export function childDecoders(parent = process.pid): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === parent && DECODERS.has(comm)) found.push(`${entry} ${comm} (${state})`);
  }
  return found;
}
