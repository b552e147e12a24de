// Runs the engine benchmark without a build of this folder: .ts files are transpiled on require
// (typescript's transpileModule, no type checking). The container init itself runs from dist/, so
// build first: npx tsc -p tsconfig.build.json. Usage (root): node bench/engine/run.js [runs]
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
    fileName: filename,
  });
  module._compile(outputText, filename);
};

require('./start_latency.ts')
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
