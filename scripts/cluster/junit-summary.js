#!/usr/bin/env node
// Reads a Ginkgo JUnit report (e2e.test --ginkgo.junit-report) and prints each failed spec, then
// "conformance: N passed, N failed, N skipped". Ginkgo lists every spec of the binary: those the focus
// left out carry `<skipped message="skipped">` and are not counted; a spec that skipped itself while
// running carries `skipped - <why>` and is. Exits 1 when a spec failed.
'use strict';
const fs = require('node:fs');

const xml = fs.readFileSync(process.argv[2], 'utf8');
const unescape = (s) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;|&#39;/g, "'")
    .replace(/&#34;/g, '"')
    .replace(/&#xA;/g, '\n')
    .replace(/&amp;/g, '&');
let passed = 0;
let skipped = 0;
const failed = [];
for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
  const attrs = m[1];
  const body = m[3] ?? '';
  const name = unescape(/\bname="([^"]*)"/.exec(attrs)?.[1] ?? '?');
  const status = /\bstatus="([^"]*)"/.exec(attrs)?.[1] ?? '';
  // The suite's own setup and teardown nodes are reported as testcases too.
  const isSpec =
    !/^\[(SynchronizedBeforeSuite|SynchronizedAfterSuite|BeforeSuite|AfterSuite|ReportAfterSuite|ReportBeforeSuite)\]/.test(
      name,
    );
  if (
    /<failure\b|<error\b/.test(body) ||
    status === 'failed' ||
    status === 'panicked' ||
    status === 'timedout'
  ) {
    const message = unescape(/<failure\b[^>]*message="([^"]*)"/.exec(body)?.[1] ?? status)
      .split('\n')[0]
      .slice(0, 300);
    failed.push(`  [FAIL] ${name}\n         ${message}`);
  } else if (/<skipped\b/.test(body) || status === 'skipped' || status === 'pending') {
    const message = /<skipped\b[^>]*message="([^"]*)"/.exec(body)?.[1] ?? '';
    if (message !== 'skipped' && status !== 'pending' && isSpec) skipped += 1;
  } else if (isSpec) {
    passed += 1;
  }
}
for (const line of failed) console.log(line);
console.log(`conformance: ${passed} passed, ${failed.length} failed, ${skipped} skipped`);
process.exit(failed.length > 0 ? 1 : 0);
