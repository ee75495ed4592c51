import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES, RULE_IDS } from '../rules';
import { rulePages, RULE_DOCS_DIR, stalePages } from '../scripts/dev/generate-rule-docs';
import { SEVERITIES, STATUSES, type Finding } from '../shared/model';
import { parseSnapshot } from '../shared/snapshot/load';
import { auditSnapshot } from '../shared/engine/audit';
import {
  defineRule,
  placeholdersOf,
  reasonSpecOf,
  remediationTemplates,
  SHARED_REASONS,
  type Outcome,
  type ReasonTable,
  type Rule,
  type Subject,
} from '../shared/engine/rule';

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
      expect(Object.keys(meta.reasons).length).toBeGreaterThan(0);
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

/** Every finding of the demo fleets (before and after the fixes), audited at their collection time. */
function demoFindings(): Finding[] {
  return ['demo-fleet.json', 'demo-fleet-after.json'].flatMap((file) => {
    const snapshot = parseSnapshot(
      JSON.parse(readFileSync(join(__dirname, 'fixtures', 'demo', file), 'utf8')),
    );
    const at = new Date(snapshot.collectedAt);
    return auditSnapshot(snapshot, { rules: RULES, now: at, evaluatedAt: at }).findings;
  });
}

/** The reasons of a table whose remediation template (of some variant) is typed plain `string`. */
type WideTemplateIn<R extends ReasonTable> = {
  [K in keyof R]: R[K]['remediation'] extends string
    ? string extends R[K]['remediation']
      ? K
      : never
    : {
        [V in keyof R[K]['remediation']]: string extends R[K]['remediation'][V] ? K : never;
      }[keyof R[K]['remediation']];
}[keyof R];
type WideTemplate<T> = T extends ReasonTable ? WideTemplateIn<T> : never;

/** A rule's test file without its comments: a reason named only in a comment has no row. */
const testSource = (id: string) =>
  readFileSync(join(__dirname, 'rules', `${id}.test.ts`), 'utf8')
    // Block comments start a line ('arn:...:instance/*' in a string is no comment).
    .replace(/^\s*\/\*[\s\S]*?\*\//gm, '')
    .replace(/^\s*\/\/.*$/gm, '');

describe('rule reasons (meta.reasons, like typescript-eslint meta.messages)', () => {
  const byRule = RULES.map((r) => [r.meta.id, r as Rule] as const);

  it.each(byRule)('%s declares each reason with a status, a severity and a fix', (_id, rule) => {
    for (const [code, spec] of Object.entries(rule.meta.reasons)) {
      expect({ code, valid: /^[A-Z][A-Z0-9_]*$/.test(code) }).toEqual({ code, valid: true });
      expect(STATUSES).toContain(spec.status);
      if (spec.severity !== undefined) expect(SEVERITIES).toContain(spec.severity);
      // The shared reasons are declared once (SHARED_REASONS), never redefined by a rule.
      expect(Object.keys(SHARED_REASONS)).not.toContain(code);
      for (const [, template] of remediationTemplates(spec)) expect(template.length).toBeGreaterThan(10);
      if (spec.status === 'PASS') expect(spec.remediation).toBe('No action needed.');
    }
  });

  it.each(byRule)('%s: every declared reason has a row in its test file that expects it', (id, rule) => {
    // Reasons are asserted as string literals ('CODE') in test/rules/<id>.test.ts; a declared reason that
    // no row expects is either dead or untested.
    const source = testSource(id);
    const untested = Object.keys(rule.meta.reasons).filter(
      (code) => !new RegExp(`['"\`]${code}['"\`]`).test(source),
    );
    expect(untested).toEqual([]);
  });

  it('every reason the demo fleets produce is declared by its rule, and no rule breaks its contract', () => {
    const findings = demoFindings();
    const byId = new Map(RULES.map((r) => [r.meta.id, r as Rule]));
    const undeclared = findings.filter((f) => !reasonSpecOf(byId.get(f.ruleId)!.meta, f.reason));
    expect(undeclared.map((f) => `${f.ruleId} ${f.reason}`)).toEqual([]);
    const mismatched = findings.filter(
      (f) => reasonSpecOf(byId.get(f.ruleId)!.meta, f.reason)?.status !== f.status,
    );
    expect(mismatched.map((f) => `${f.ruleId} ${f.reason} ${f.status}`)).toEqual([]);
    expect(findings.filter((f) => f.reason === 'RULE_EXCEPTION').map((f) => f.message)).toEqual([]);
  });

  it('a rule cannot return a reason it does not declare, nor set a status (compile time: npx tsc)', () => {
    // Each @ts-expect-error below makes `npx tsc` fail if the error it expects ever goes away.
    const reasons = {
      DECLARED: { status: 'PASS', remediation: 'No action needed.' },
      FIXABLE: { status: 'FAIL', remediation: 'aws ec2 fix --instance-id {instanceId}' },
    } as const;
    function evaluate(subject: Subject): Outcome<typeof reasons> {
      if (subject.kind === 'ec2') return { reason: 'FIXABLE', message: 'm', params: { instanceId: 'i-1' } };
      if (subject.kind === 'hybrid')
        // @ts-expect-error NOT_DECLARED is not a key of meta.reasons.
        return { reason: 'NOT_DECLARED', message: 'undeclared' };
      // @ts-expect-error the status comes from the declaration: a branch cannot set one.
      return { reason: 'DECLARED', status: 'FAIL', message: 'm' };
    }
    // @ts-expect-error the remediation of FIXABLE needs {instanceId}.
    const withoutValue: Outcome<typeof reasons> = { reason: 'FIXABLE', message: 'm' };
    const rule = defineRule({
      meta: { ...RULES[7].meta, reasons },
      // @ts-expect-error the same inline: NOT_DECLARED is not a key of meta.reasons.
      evaluate: () => ({ reason: 'NOT_DECLARED', message: 'undeclared' }),
    });
    // Every declared template keeps its literal type (a template typed plain `string` would let its
    // placeholders go unchecked): this line does not compile if one does not.
    const literalTemplates: [WideTemplate<(typeof RULES)[number]['meta']['reasons']>] extends [never]
      ? true
      : false = true;
    expect([withoutValue, rule.meta.reasons, evaluate, literalTemplates]).toHaveLength(4);
  });

  // What a user can fill in himself is written <like-this>; a value the finding knows never is.
  const KNOWN_VALUE =
    /<(id|instance-id|mi-id|role|role-name|partition|region|account|account-id|profile|vpc|subnet|rtb|route-table|endpoint|activation-id)>|\{[A-Za-z_]\w*\}/;

  it('no remediation of the demo fleets leaves a placeholder for a value the finding knows', () => {
    const findings = demoFindings();
    const hits = findings.filter((f) => KNOWN_VALUE.test(f.remediation));
    expect(hits.map((f) => `${f.ruleId} ${f.resourceId} ${f.reason}: ${f.remediation}`)).toEqual([]);
    // The fixes that name the resource name its real id.
    const inactive = findings.filter((f) => f.reason === 'INACTIVE');
    for (const f of inactive) expect(f.remediation).toMatch(new RegExp(`--instance-ids? ${f.resourceId}\\b`));
  });

  it('no declared fix writes a known value as <placeholder> instead of {placeholder}', () => {
    for (const { meta } of RULES as readonly Rule[])
      for (const spec of Object.values(meta.reasons))
        for (const [, template] of remediationTemplates(spec)) {
          expect(template).not.toMatch(/<(id|instance-id|mi-id|role|partition|profile)>/);
          for (const name of placeholdersOf(template)) expect(name).toMatch(/^[a-z][A-Za-z]*$/);
        }
  });
});

describe('rule pages (docs/rules)', () => {
  it('the committed pages are what `npm run docs` generates from the metadata', () => {
    // Stale, missing or extra pages: run `npm run docs` and commit docs/rules.
    expect(stalePages()).toEqual([]);
  });

  it.each(RULES.map((r) => [r.meta.id, r as Rule] as const))(
    '%s: its page names every reason, the shared ones and the AWS documentation',
    (id, rule) => {
      const page = rulePages().get(`${id}.md`)!;
      for (const code of [...Object.keys(rule.meta.reasons), ...Object.keys(SHARED_REASONS)])
        expect(page).toContain(`### \`${code}\``);
      expect(page).toContain(rule.meta.docsUrl);
      expect(page).toContain(rule.meta.description);
      expect(page).not.toMatch(/seeds?\/0|seed [0-9]{3}|\.txt\b/i);
    },
  );

  it("README's rule catalogue links every page", () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const catalogue = readme.slice(
      readme.indexOf('## The rules'),
      readme.indexOf('\n## ', readme.indexOf('## The rules') + 1),
    );
    for (const { meta } of RULES) expect(catalogue).toContain(`(docs/rules/${meta.id}.md)`);
    expect(existsSync(RULE_DOCS_DIR)).toBe(true);
  });
});

describe('user-facing text', () => {
  // Users have the AWS documentation, not the documents the rules were written from.
  const seedy = /seeds?\/0|seed [0-9]{3}|\bseed's\b/i;
  it.each(RULES.map((r) => [r.meta.id, r] as const))(
    '%s: title, description, remediation and reference cite no seed',
    (_id, rule) => {
      const { meta } = rule;
      const templates = Object.values(meta.reasons).flatMap((spec) =>
        remediationTemplates(spec).map(([, template]) => template),
      );
      for (const text of [meta.title, meta.description, meta.docsUrl, ...templates])
        expect(text).not.toMatch(seedy);
    },
  );

  it('no finding of the demo fleet mentions a seed', () => {
    const findings = demoFindings();
    const hits = findings.filter((f) =>
      seedy.test(`${f.message} ${f.remediation} ${f.reference} ${JSON.stringify(f.evidence)}`),
    );
    expect(hits.map((f) => `${f.ruleId} ${f.reason}: ${f.message}`)).toEqual([]);
  });
});
