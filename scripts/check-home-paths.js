// Lint: no path under a home directory in the code, tests, scripts and benchmarks. Such a path
// exists only on a machine someone set up by hand (a `go install` into the home directory), so a test that
// names it passes there and fails on a fresh machine. Tools are found on PATH or where the install
// scripts put them (test/support/tools.ts).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const DIRS = ['src', 'test', 'scripts', 'bench'];
const SELF = 'scripts/check-home-paths.js';
// A literal path under root's or a user's home directory (spelled out, with a tilde or with HOME),
// and Node's os.homedir().
const HOME_PATH =
  /(^|['"`\s(=:])(\/root\/|\/home\/[a-z_][a-z0-9_-]*\/|~\/|\$HOME\/|\$\{HOME\}\/)|\bhomedir\(\)/;

const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', ...DIRS], {
  encoding: 'utf8',
})
  .split('\0')
  .filter((f) => f && f !== SELF && fs.existsSync(f));

const found = [];
for (const file of files) {
  const text = fs.readFileSync(file);
  if (text.includes(0)) continue; // binary
  text
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (HOME_PATH.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
}
if (found.length > 0) {
  console.error('Paths under a home directory, which a fresh machine does not have (find tools on PATH or');
  console.error("through the install scripts' locations, as test/support/tools.ts does):");
  for (const f of found) console.error(`  ${f}`);
  process.exit(1);
}
