import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RULES } from '../rules';
import { RULE_IDS, SEVERITIES } from '../shared/model';

const rulesDir = join(__dirname, '..', 'rules');
const seedsDir = join(__dirname, '..', '..', 'shared', 'seeds');

describe('rule registry', () => {
  it('registers exactly the rule ids of DESIGN §3, each once', () => {
    const ids = RULES.map((r) => r.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...RULE_IDS].sort());
  });

  it('has one module per rule whose file name is the rule id, and nothing else', () => {
    const files = readdirSync(rulesDir)
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
      .map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual(RULES.map((r) => r.meta.id).sort());
  });

  it.each(RULES.map((r) => [r.meta.id, r] as const))(
    '%s has a test file and complete metadata',
    (id, rule) => {
      expect(existsSync(join(__dirname, 'rules', `${id}.test.ts`))).toBe(true);
      const { meta } = rule;
      expect(meta.title.length).toBeGreaterThan(10);
      expect(meta.description.length).toBeGreaterThan(20);
      expect(SEVERITIES).toContain(meta.severity);
      expect(meta.appliesTo.length).toBeGreaterThan(0);
      for (const kind of meta.appliesTo) expect(Object.keys(meta.needs)).toContain(kind);
      expect(meta.remediation.length).toBeGreaterThan(20);
      expect(meta.docsUrl).toMatch(
        /^https:\/\/docs\.aws\.amazon\.com\/systems-manager\/latest\/userguide\/[a-z0-9-]+\.html$/,
      );
      expect(meta.references.length).toBeGreaterThan(0);
      for (const ref of meta.references) {
        expect(ref.quote.length).toBeGreaterThan(10);
        expect(ref.section.length).toBeGreaterThan(3);
        expect(ref.seed).toMatch(/^\d{3}_[0-9a-f]{16}\.txt$/);
      }
    },
  );

  // The seeds live beside the project (../shared/seeds); a fresh clone in CI may not have them.
  const seedsPresent = existsSync(seedsDir);
  (seedsPresent ? it : it.skip)('every quoted seed sentence appears in its seed file', () => {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    // Seeds are markdown: drop escapes, backticks and link targets before comparing.
    const normalize = (s: string) =>
      s
        .replace(/\\/g, '')
        .replace(/`/g, '')
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/\s+/g, ' ');
    for (const { meta } of RULES) {
      for (const ref of meta.references) {
        const text = normalize(readFileSync(join(seedsDir, ref.seed), 'utf8'));
        expect({ rule: meta.id, found: text.includes(normalize(ref.quote)) }).toEqual({
          rule: meta.id,
          found: true,
        });
      }
    }
  });
});

describe('user-facing text', () => {
  // Users have the AWS documentation, not the documents the rules were written from.
  const seedy = /seeds?\/0|seed [0-9]{3}|\bseed's\b/i;
  it.each(RULES.map((r) => [r.meta.id, r] as const))(
    '%s: title, description, remediation and reference cite no seed',
    (_id, rule) => {
      const { meta } = rule;
      for (const text of [meta.title, meta.description, meta.remediation, meta.docsUrl])
        expect(text).not.toMatch(seedy);
    },
  );

  it('no finding of the demo fleet mentions a seed', () => {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const { parseSnapshot } = require('../shared/snapshot/load') as typeof import('../shared/snapshot/load');
    const { auditSnapshot } = require('../shared/audit') as typeof import('../shared/audit');
    const snapshot = parseSnapshot(
      JSON.parse(readFileSync(join(__dirname, 'fixtures', 'demo', 'demo-fleet.json'), 'utf8')),
    );
    const at = new Date(snapshot.collectedAt);
    const { findings } = auditSnapshot(snapshot, { now: at, evaluatedAt: at });
    const hits = findings.filter((f) =>
      seedy.test(`${f.message} ${f.remediation} ${f.reference} ${JSON.stringify(f.evidence)}`),
    );
    expect(hits.map((f) => `${f.ruleId} ${f.reason}: ${f.message}`)).toEqual([]);
  });
});
