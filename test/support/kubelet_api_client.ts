// GET on an agent's kubelet API started with --anonymous-auth=true (AlwaysAllow, no client CA):
// the body of a 200, or an error that holds the status and body of any other answer.
import https from 'node:https';

export function kubeletGet(port: number, pathname: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: pathname, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`)),
        );
      })
      .on('error', reject);
  });
}
