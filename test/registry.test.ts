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
