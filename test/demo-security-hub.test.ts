import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runDemo } from '../scripts/dev/demo';

/**
 * Issue 13 "done when": `npm run demo` shows the Security Hub batches it would send for the three
 * audits (to the local sink) — the initial full import paged by 100, nothing for the unchanged audit,
 * then only the changes, among them an ARCHIVED update for a fixed instance and for a suppressed one.
 */

let out = '';
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ssm-audit-demo-sh-'));
  const code = await runDemo({ out: (t) => (out += t), color: false, tableDir: path.join(dir, 'table') });
  expect(code).toBe(0);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const securityHubBlock = (audit: string) => {
  const start = audit.indexOf('Security Hub (BatchImportFindings to a local sink)');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = audit.indexOf('\nRegistration pending', start);
  return audit.slice(start, end < 0 ? undefined : end);
};

describe('npm run demo: the Security Hub batches', () => {
  it('audit 1 is the initial full import, every finding in batches of at most 100', () => {
    const [first] = out.split('━━ Audit ').slice(1);
    const block = securityHubBlock(first!);
    expect(block).toMatch(
      /^Security Hub \(BatchImportFindings to a local sink\): 3620 finding\(s\) in 37 batch\(es\) — the initial full import \(first enablement\), paged by 100; accepted 3620, failed 0\n/,
    );
    expect(block).toMatch(/\n {2}batch 1: 100 finding\(s\) \(\d+ passing, \d+ active\)\n/);
    expect(block).toMatch(/\n {2}batches 3–37: 3420 finding\(s\)/);
    expect(block).toMatch(/\n {4}… 97 more\n/);
  });

  it('audit 2 (nothing changed) sends nothing', () => {
    const [, second] = out.split('━━ Audit ').slice(1);
    expect(securityHubBlock(second!)).toBe(
      'Security Hub (BatchImportFindings to a local sink): nothing to send; accepted 0, failed 0',
    );
  });

  it('audit 3 sends only the changes: fixed and suppressed findings ARCHIVED, a regression ACTIVE again', () => {
    const [, , third] = out.split('━━ Audit ').slice(1);
    expect(third).toMatch(
      /Suppression legacy-build-host: \{"resourceId":"i-038c7712e2df5ffd3"\} — ".+", owner ci-team@example\.com, expires 2026-12-30T10:00:00\.000Z \(\d+ findings suppressed\)/,
    );
    const block = securityHubBlock(third!);
    const [, sent, batches] =
      /: (\d+) finding\(s\) in (\d+) batch\(es\) — only what changed; accepted \1, failed 0/.exec(block)!;
    // Only what changed: the findings table's new, changed and closed findings of this audit.
    const counts = /Findings table: \d+ findings — (\d+) new, (\d+) changed, (\d+) closed/.exec(third!)!;
    expect(Number(sent)).toBe(Number(counts[1]) + Number(counts[2]) + Number(counts[3]));
    expect(Number(batches)).toBe(Math.ceil(Number(sent) / 100));
    expect(block).toMatch(
      /Fixed instance \(archived\) +i-[0-9a-f]+\/managed-status +FAILED → PASSED +ARCHIVED {2}MANAGED_ONLINE/,
    );
    expect(block).toMatch(
      /Suppressed \(status kept, archived\) +i-038c7712e2df5ffd3\/[\w-]+ +FAILED +ARCHIVED {2}suppressed by legacy-build-host/,
    );
    expect(block).toMatch(/Resource gone \(closed, archived\) +\S+ +\w+ +ARCHIVED {2}closed: /);
    expect(block).toMatch(/Regression \(ACTIVE again\) +\S+ +PASSED → FAILED +ACTIVE /);
  });
});
