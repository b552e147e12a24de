// `nodelet image pull|ls|rm|import|export`: images for people. It works on the state directory
// directly (--state-dir, or the stateDir of --config), not through the daemon: every change runs
// under the image store's lock and the daemon reads records from disk on each call, so a running
// daemon sees what this command did at once. Registry mirrors and insecure hosts come from the
// daemon's configuration file.
import fs from 'node:fs';
import { DaemonConfigInput, loadDaemonConfig } from '../config';
import { exportImages, Images, importArchive, ImageRecord } from '../image';
import { IMAGE_HELP } from './help';
import { CliUsageError } from './usage';
import { parseArgs } from 'node:util';

/** What `nodelet image` parses; IMAGE_HELP shows each one. */
export const IMAGE_FLAGS = {
  config: { type: 'string' },
  'state-dir': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  name: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runImageCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: IMAGE_FLAGS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...operands] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(IMAGE_HELP);
    return command === undefined && !values.help ? 2 : 0;
  }
  const overrides: Partial<DaemonConfigInput> = values['state-dir'] ? { stateDir: values['state-dir'] } : {};
  const config = loadDaemonConfig({ file: values.config, overrides });
  const images = await Images.open({ stateDir: config.stateDir, registry: config.registry });
  switch (command) {
    case 'pull': {
      if (operands.length !== 1) throw new CliUsageError('nodelet image pull takes one image reference');
      const creds = values.username ? { username: values.username, password: values.password } : undefined;
      const bar = progressBar(operands[0]);
      const image = await images.pull(operands[0], {
        creds,
        onBytes: (done, total) => bar.update(done, total),
      });
      bar.end();
      process.stdout.write(`${image.id}\n`);
      return 0;
    }
    case 'ls':
      process.stdout.write(
        values.quiet ? (await images.list()).map((i) => `${i.id}\n`).join('') : table(await images.list()),
      );
      return 0;
    case 'rm': {
      if (operands.length === 0) throw new CliUsageError('nodelet image rm takes image references');
      let status = 0;
      for (const ref of operands) {
        if (await images.remove(ref)) process.stdout.write(`Deleted: ${ref}\n`);
        else {
          process.stderr.write(`nodelet image rm: no such image '${ref}'\n`);
          status = 1;
        }
      }
      return status;
    }
    case 'import': {
      if (operands.length !== 1)
        throw new CliUsageError('nodelet image import takes one file (or - for stdin)');
      const file = operands[0];
      const bar = progressBar(file);
      const total = file === '-' ? 0 : fs.statSync(file).size;
      const source = file === '-' ? process.stdin : fs.createReadStream(file);
      const imported = await importArchive(images, source, {
        name: values.name,
        onBytes: (n) => bar.update(n, total),
      });
      bar.end();
      for (const i of imported) process.stdout.write(`${i.id} ${i.repoTags.join(' ')}\n`);
      return 0;
    }
    case 'export': {
      const [file, ...refs] = operands;
      if (!file || refs.length === 0)
        throw new CliUsageError('nodelet image export takes a file (or -) and image references');
      const records: ImageRecord[] = [];
      for (const ref of refs) {
        const found = await images.resolve(ref);
        if (!found) throw new CliUsageError(`Cannot export '${ref}': no such image`);
        records.push(found);
      }
      const out = file === '-' ? process.stdout : fs.createWriteStream(file, { mode: 0o644 });
      await exportImages(images, records, out);
      return 0;
    }
    default:
      throw new CliUsageError(`unknown image command '${command}'\n\n${IMAGE_HELP}`);
  }
}

function table(list: ImageRecord[]): string {
  const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const image of list) {
    const short = image.id.slice(7, 19);
    const names = image.repoTags.length ? image.repoTags : ['<none>:<none>'];
    for (const tag of names) {
      const colon = tag.lastIndexOf(':');
      rows.push([tag.slice(0, colon), tag.slice(colon + 1), short, human(image.size)]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map(
      (r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('   ')
          .trimEnd() + '\n',
    )
    .join('');
}

function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${n.toFixed(u === 0 ? 0 : 1)}${units[u]}`;
}

/** A one-line progress bar on a terminal's stderr; silent when stderr is not a terminal. */
function progressBar(label: string) {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    update(done: number, total: number) {
      const now = Date.now();
      if (!tty || now - last < 100) return;
      last = now;
      const width = 30;
      const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
      const bar = total > 0 ? `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ` : '';
      process.stderr.write(`\r${label}: ${bar}${human(done)}${total > 0 ? ` / ${human(total)}` : ''}\x1b[K`);
    },
    end() {
      if (tty && last > 0) process.stderr.write('\r\x1b[K');
    },
  };
}
