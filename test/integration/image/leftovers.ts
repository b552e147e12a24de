// Ends what a test daemon leaves running for its root (the monitor outlives daemons by design)
// and removes the root, retrying while a late writer still creates files in it.
import fs from 'node:fs';

/** Pids of processes whose command line names `<root>/run`. */
export function processesOf(root: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').includes(`${root}/run`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

export async function removeRoot(root: string | undefined): Promise<void> {
  if (!root) return;
  for (let i = 0; i < 50 && processesOf(root).length > 0; i++) {
    for (const pid of processesOf(root)) process.kill(pid, i < 30 ? 'SIGTERM' : 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 20 && fs.existsSync(root); i++) {
    fs.rmSync(root, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 100));
  }
}
