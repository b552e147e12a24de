// Prints the heaviest functions of a V8 .cpuprofile: self time, and total time (self + callees,
// each function counted once per stack). Usage: node bench/calls/top.js <file.cpuprofile> [rows] [filter]
const fs = require('node:fs');

const [file, rowsArg, filter] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const name = (n) => {
  const f = n.callFrame;
  return `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
};
const self = new Map();
const total = new Map();
for (const [id, us] of dt) {
  const n = byId.get(id);
  self.set(name(n), (self.get(name(n)) ?? 0) + us);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + us);
  }
}
const rows = Number(rowsArg ?? 40);
const all = [...dt.values()].reduce((a, b) => a + b, 0);
const show = (title, m) => {
  console.log(`\n${title} (of ${(all / 1000).toFixed(0)} ms)`);
  [...m.entries()]
    .filter(([k]) => !filter || k.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .forEach(([k, us]) => console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${k}`));
};
show('self', self);
show('total', total);
