// Lint: no runtime import cycle under src/. In a cycle, one module of it runs while another is only
// half loaded, so a value imported from it is undefined at that moment: a bug that shows only in
// the order the process happens to load them. The graph is what runs at load time: each file is
// transpiled the way tsc does it (imports used only as types, and `import type`, vanish), and only
// the require() calls made while the module loads count; one inside a function (a lazy load, or
// an `await import()`) runs later and cannot see a half-loaded module. Exits 1 naming each cycle.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The relative modules a file requires while it loads (not inside a function). */
function loadTimeRequires(file) {
  const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      isolatedModules: true,
    },
  });
  const out = ts.createSourceFile(file.replace(/\.ts$/, '.js'), outputText, ts.ScriptTarget.ES2022, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'require' &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0]) &&
      node.arguments[0].text.startsWith('.')
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(out);
  return found;
}

function resolve(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) return candidate;
  }
  return undefined; // JSON and other assets cannot take part in a cycle
}

/** Strongly connected components (Tarjan): each one with more than one file is a cycle. */
function cycles(graph) {
  let index = 0;
  const indexOf = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const connect = (v) => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indexOf.get(w)));
      }
    }
    if (low.get(v) !== indexOf.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) connect(v);
  return found;
}

/** One path around the component, to show where to cut it. */
function pathAround(graph, component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const route = [start];
        for (let at = v; at !== start; at = previous.get(at)) route.splice(1, 0, at);
        return [...route, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

const graph = new Map();
for (const file of sourceFiles(SRC)) {
  const targets = loadTimeRequires(file)
    .map((specifier) => resolve(file, specifier))
    .filter((target) => target !== undefined);
  graph.set(file, [...new Set(targets)]);
}

const found = cycles(graph);
const rel = (file) => path.relative(ROOT, file);
for (const component of found) {
  console.error(`Runtime import cycle: ${pathAround(graph, component).map(rel).join(' -> ')}`);
  if (component.length > 2)
    console.error(`  (${component.length} files: ${component.map(rel).sort().join(', ')})`);
}
if (found.length > 0) {
  console.error(
    `${found.length} runtime import cycle(s) under src/: move what both sides need into a leaf module.`,
  );
  process.exit(1);
}
