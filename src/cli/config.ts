// `nodelet config defaults|reference`: the configuration as the schema defines it.
import YAML from 'yaml';
import { configReferenceMarkdown, parseDaemonConfig } from '../config';
import { CONFIG_HELP } from './help';
import { CliUsageError } from './usage';

export async function runConfigCommand(args: string[]): Promise<number> {
  switch (args[0]) {
    case 'defaults':
      process.stdout.write(YAML.stringify(parseDaemonConfig({})));
      return 0;
    case 'reference':
      process.stdout.write(configReferenceMarkdown());
      return 0;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(CONFIG_HELP);
      return 0;
    default:
      throw new CliUsageError('usage: nodelet config defaults|reference');
  }
}
