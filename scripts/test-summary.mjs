// Totals the vitest JSON reports whose paths arrive on stdin (one per line, one per workspace)
// and prints `N passed, N failed, N skipped` as the last line. Exits non-zero when anything
// failed, or when the test command itself failed (its exit status is the first argument).
//
// A test file that could not even load counts as one failed test, so a broken suite never
// reads as "0 failed".
import { readFileSync } from 'node:fs';

const commandStatus = Number(process.argv[2] ?? '0');
const files = readFileSync(0, 'utf8').split('\n').filter(Boolean).sort();

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    if (suite.status === 'failed' && failedTests.length === 0) {
      failed += 1;
      console.error(`[kafka-proxy] ${suite.name} failed to run: ${suite.message ?? ''}`);
    }
  }
  const workspace = file.replace(/^\.\//, '').replace(/\/\.turbo\/.*$/, '');
  console.error(
    `[kafka-proxy] ${workspace}: ${report.numPassedTests ?? 0} passed, ` +
      `${report.numFailedTests ?? 0} failed`,
  );
}

if (commandStatus !== 0 && failed === 0) {
  console.error('[kafka-proxy] the test command failed outside any test (see its output above)');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
