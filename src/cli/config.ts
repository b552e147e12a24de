// `nodelet config defaults|reference|pod-fields`: the configuration as the schema defines it, and
// the table of Pod fields the agent's schema honours, accepts or refuses (docs/agent.md).
import YAML from 'yaml';
import fs from 'node:fs';
import { configReferenceMarkdown, parseDaemonConfig } from '../config';
import { generatePodFieldsTable, withPodFieldsTable } from '../agent/pod_fields';
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
    case 'pod-fields': {
      // The table of docs/agent.md: printed, or written between its markers in the named file.
      const table = generatePodFieldsTable();
      if (args[1] === '--write' && args[2]) {
        fs.writeFileSync(args[2], withPodFieldsTable(fs.readFileSync(args[2], 'utf8'), table));
        return 0;
      }
      if (args.length > 1) throw new CliUsageError('usage: nodelet config pod-fields [--write FILE]');
      process.stdout.write(table + '\n');
      return 0;
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(CONFIG_HELP);
      return 0;
    default:
      throw new CliUsageError('usage: nodelet config defaults|reference|pod-fields');
  }
}
