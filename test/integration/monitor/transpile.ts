// The monitor runs as its own Node process, so its tests need JavaScript on disk. A full
// `tsc -p tsconfig.build.json` takes a minute here and rewrites the shared dist/; instead this
// transpiles only what src/monitor/main.ts and keeper.ts import (relative imports, followed), without type
// checking, into <repo>/.cache/monitor-test-XXXX/ — inside the repository so `koffi` and `pino`
// resolve from its node_modules. The caller removes the directory.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const REPO = path.resolve(__dirname, '../../..');
// In CommonJS output every runtime import is a require() call; type-only imports are gone.
const REQUIRE = /require\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

export interface TranspiledMonitor {
  /** The monitor's entry script. */
  entry: string;
  dir: string;
}

export function transpileMonitor(): TranspiledMonitor {
  fs.mkdirSync(path.join(REPO, '.cache'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(REPO, '.cache', 'monitor-test-'));
  // The engine's helpers (init, exec) and its security hook are started or loaded by path, not
  // required: they are roots too, so a monitor with the engine launcher finds them beside it.
  const pending = [
    'src/monitor/main.ts',
    'src/monitor/keeper.ts',
    'src/monitor/client.ts', // for tests that run a daemon in a process of its own
    'src/runtime/init/main.ts',
    'src/runtime/exec/main.ts',
    'src/runtime/security/index.ts',
  ]
    .map((file) => path.join(REPO, file))
    .filter((file) => fs.existsSync(file));
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = fs.readFileSync(file, 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        verbatimModuleSyntax: false,
      },
    });
    const target = path.join(dir, path.relative(path.join(REPO, 'src'), file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
    for (const match of out.outputText.matchAll(REQUIRE)) {
      const resolved = resolveTs(path.dirname(file), match[1]);
      if (resolved) pending.push(resolved);
    }
  }
  return { entry: path.join(dir, 'monitor/main.js'), dir };
}

function resolveTs(from: string, spec: string): string | undefined {
  const base = path.resolve(from, spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((file) => fs.existsSync(file));
}
