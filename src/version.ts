// nodelet's own version, read from package.json so there is one place to bump it.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const NODELET_VERSION: string = (
  JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;
