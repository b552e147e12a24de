// The monitor's unix sockets: owner-only, and any socket file at the path is stale (the caller
// holds the monitor lock), so it is replaced.
import fs from 'node:fs';
import type net from 'node:net';

export function listenPrivate(server: net.Server, socketPath: string): Promise<net.Server> {
  fs.rmSync(socketPath, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      fs.chmodSync(socketPath, 0o600);
      server.off('error', reject);
      resolve(server);
    });
  });
}
