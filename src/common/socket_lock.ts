// Claims a unix socket path for one daemon. A lock file beside the socket (flock, dropped by the
// kernel when its holder dies) keeps a second nodelet off; a connect probe keeps us from
// unlinking the live socket of some other program. Only a stale socket file is removed.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { failedPrecondition } from './errors';
import { tryLockExclusive } from '../runtime/sys';

export interface SocketClaim {
  socketPath: string;
  lockPath: string;
  /** Removes the socket file and gives the lock up; a second call does nothing. */
  release(): void;
}

export async function claimSocket(socketPath: string): Promise<SocketClaim> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o711 });
  const lockPath = `${socketPath}.lock`;
  const fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (!tryLockExclusive(fd, lockPath)) {
    const holder = fs.readFileSync(lockPath, 'utf8').trim();
    fs.closeSync(fd);
    throw failedPrecondition(
      `Cannot serve on '${socketPath}': another nodelet daemon${holder ? ` (pid ${holder})` : ''} holds '${lockPath}'`,
    );
  }
  try {
    if (await isServing(socketPath)) {
      throw failedPrecondition(`Cannot serve on '${socketPath}': another program is listening there`);
    }
    fs.rmSync(socketPath, { force: true });
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid}\n`, 0);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  let released = false;
  return {
    socketPath,
    lockPath,
    release: () => {
      if (released) return;
      released = true;
      fs.rmSync(socketPath, { force: true });
      fs.ftruncateSync(fd, 0);
      fs.closeSync(fd);
    },
  };
}

function isServing(socketPath: string): Promise<boolean> {
  if (!fs.existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const conn = net.createConnection({ path: socketPath });
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}
