// Command-line parsing shared by the sub-commands.
import { parseArgs, ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: exit code 2, as with other Unix tools. */
export class CliUsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
}
