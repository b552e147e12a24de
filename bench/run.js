// `npm run bench` runs this after building dist/ (the nodelet daemon runs from there). The bench's
// .ts files and the test/support harness are transpiled on require (typescript's transpileModule,
// no type checking: that is `npm run typecheck`'s job). Must run as root.
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

require('./main.ts')
  .main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
