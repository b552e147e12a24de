// A test-only transpile: lets a child `node -r <this file> some.ts` run nodelet's TypeScript
// sources directly (transpile only, no type check), so the security tests do not depend on a
// fresh dist/ build that other work may be changing at the same time. With NODELET_TS_CACHE set
// to a directory, transpiled files are kept there, keyed by path and mtime, so later children
// skip loading the compiler.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const cacheDir = process.env.NODELET_TS_CACHE;
let ts;

function transpile(filename, source) {
  ts ??= require('typescript');
  return ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      isolatedModules: true,
    },
  }).outputText;
}

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  if (!cacheDir) return module._compile(transpile(filename, source), filename);
  const key = crypto.createHash('sha256').update(filename).update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let out;
  try {
    out = fs.readFileSync(cached, 'utf8');
  } catch {
    out = transpile(filename, source);
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, out);
    fs.renameSync(`${cached}.${process.pid}`, cached);
  }
  module._compile(out, filename);
};
