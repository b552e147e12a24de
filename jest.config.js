// Two projects: unit tests beside the code (no root needed), and integration/e2e tests under test/
// that need root and the real kernel. scripts/test.sh prints the closing "N passed, N failed" line.
const fs = require('node:fs');
const path = require('node:path');

const existing = (...dirs) =>
  dirs.filter((d) => fs.existsSync(path.join(__dirname, d))).map((d) => `<rootDir>/${d}`);
// Transpile only (isolatedModules in tsconfig): type checking is `npm run typecheck`'s job.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

module.exports = {
  // Integration tests start daemons and containers: more than the 5 s default.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: existing('src', 'bench'),
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: existing('test'),
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      slowTestThreshold: 30,
    },
  ],
};
