// A test-only transpile: lets a child `node -r <this file> some.ts` run nodelet's TypeScript
// sources directly (type-only transpile, no type check), so the security tests do not depend on
// a fresh dist/ build that other work may be changing at the same time.
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      isolatedModules: true,
    },
  });
  module._compile(out.outputText, filename);
};
