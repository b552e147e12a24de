import { configReferenceMarkdown, DAEMON_FLAGS } from '../config';
import { AGENT_FLAGS } from './agent';
import { AGENT_HELP, COMMAND_HELP, DAEMON_HELP, IMAGE_HELP } from './help';
import { IMAGE_FLAGS } from './image';

type FlagSpecs = Record<string, { type?: string; short?: string }>;

/** The flags a command parses that its help does not show, by their long or short form. */
function undocumented(flags: FlagSpecs, help: string): string[] {
  return Object.entries(flags)
    .filter(([name]) => name !== 'help')
    .filter(([name, spec]) => !help.includes(`--${name}`) && !(spec.short && help.includes(`-${spec.short}`)))
    .map(([name]) => `--${name}`);
}

test('every flag nodelet agent parses, the kubelet API ones too, is in its help', () => {
  expect(undocumented(AGENT_FLAGS, AGENT_HELP)).toEqual([]);
  expect(AGENT_HELP).toContain('--authorization-mode');
});

test('every flag nodelet daemon and nodelet image parse is in their help', () => {
  const daemonFlags = Object.fromEntries([...DAEMON_FLAGS.map((f) => [f.flag.slice(2), {}]), ['config', {}]]);
  expect(undocumented(daemonFlags, DAEMON_HELP)).toEqual([]);
  expect(undocumented(IMAGE_FLAGS, IMAGE_HELP)).toEqual([]);
});

test('the configuration reference carries every command help exactly as the command prints it', () => {
  const reference = configReferenceMarkdown();
  for (const { command, help } of COMMAND_HELP) {
    expect(reference).toContain(`### \`nodelet ${command}\`\n\n\`\`\`text\n${help.trimEnd()}\n\`\`\``);
  }
});
