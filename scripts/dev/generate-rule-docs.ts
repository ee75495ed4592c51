/**
 * Writes one page per rule, docs/rules/<rule-id>.md, from the rule's metadata (title, description,
 * what it applies to and needs, every reason with its status and fix, the AWS documentation page):
 *   npm run docs            (node -r tsx/cjs scripts/dev/generate-rule-docs.ts)
 *   npm run docs -- --check (exit 1 when a committed page is stale)
 * test/registry.test.ts fails when the committed pages and the metadata disagree: edit the rule, then
 * re-run this.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RULES } from '../../rules';
import {
  NO_ACTION,
  placeholdersOf,
  reasonSeverity,
  remediationTemplates,
  SHARED_REASONS,
  type ReasonSpec,
  type ReasonTable,
  type Rule,
  type SubjectKind,
} from '../../shared/engine/rule';
import { SECTIONS } from '../../shared/snapshot/schema';

export const RULE_DOCS_DIR = path.join(__dirname, '..', '..', 'docs', 'rules');

const SUBJECTS: Record<SubjectKind, string> = {
  ec2: 'EC2 instances',
  hybrid: 'hybrid nodes (managed instances)',
  account: 'the account and region',
};

/** `unblockAndAttach` → "unblock and attach". */
const words = (variant: string) => variant.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

function fence(template: string): string[] {
  return ['```text', template, '```'];
}

function reasonSection(code: string, spec: ReasonSpec, rule: Rule): string[] {
  const lines = [
    `### \`${code}\``,
    '',
    `**${spec.status}**, severity ${reasonSeverity(spec, rule.meta.severity)}.`,
    '',
  ];
  const templates = remediationTemplates(spec);
  if (templates.length === 1 && templates[0]![1] === NO_ACTION) return [...lines, `Fix: ${NO_ACTION}`, ''];
  if (templates.length === 1) lines.push('Fix:', '', ...fence(templates[0]![1]), '');
  else {
    // One template per variant: the branch picks the one that fits the case.
    for (const [variant, template] of templates)
      lines.push(`Fix (case _${words(variant)}_):`, '', ...fence(template), '');
  }

  const names = [...new Set(templates.flatMap(([, template]) => placeholdersOf(template)))];
  if (names.length > 0)
    lines.push(`Filled in from the finding: ${names.map((n) => `\`{${n}}\``).join(', ')}.`, '');
  return lines;
}

function reasonsSections(reasons: ReasonTable, rule: Rule): string[] {
  return Object.entries(reasons).flatMap(([code, spec]) => reasonSection(code, spec, rule));
}

/** The page of one rule, in Markdown that Prettier leaves as it is. */
export function renderRulePage(rule: Rule): string {
  const { meta } = rule;
  const needs = meta.appliesTo.map((kind) => {
    const keys = meta.needs[kind] ?? [];
    const what =
      keys.length === 0
        ? 'no snapshot data (decided without it)'
        : keys.map((key) => `\`${key}\` (${SECTIONS[key].join(', ')})`).join('; ');
    return `- For ${SUBJECTS[kind]}: ${what}.`;
  });
  const lines = [
    `<!-- Generated from the metadata of rules/${meta.id}.ts by \`npm run docs\`: edit the rule, not this page. -->`,
    '',
    `# \`${meta.id}\`: ${meta.title}`,
    '',
    `- Severity: ${meta.severity}`,
    `- Applies to: ${meta.appliesTo.map((k) => SUBJECTS[k]).join(', ')}`,
    `- AWS documentation: <${meta.docsUrl}>`,
    '',
    '## What it checks',
    '',
    meta.description,
    '',
    '## What it needs',
    '',
    'The snapshot sections (and the API calls that collect them) without which it cannot decide:',
    '',
    ...needs,
    '',
    ...(meta.dependsOn?.length
      ? [
          `It reads the findings of ${meta.dependsOn.map((id) => `[\`${id}\`](${id}.md)`).join(', ')} for the same resource.`,
          '',
        ]
      : []),
    'A section that is unavailable (call denied or failed, or not collected) gives ERROR, never a guess (see [reasons every rule can return](#reasons-every-rule-can-return)).',
    '',
    '## Reasons',
    '',
    `Every finding of \`${meta.id}\` carries one of these reason codes; the status comes with the code, and the fix names the real resource (\`{name}\` marks a value taken from the finding, \`<...>\` one you choose).`,
    '',
    ...reasonsSections(meta.reasons, rule),
    '## Reasons every rule can return',
    '',
    ...reasonsSections(SHARED_REASONS, rule),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The index of the rule pages. */
export function renderIndex(rules: readonly Rule[]): string {
  const lines = [
    '<!-- Generated from the rule metadata by `npm run docs`: edit the rules, not this page. -->',
    '',
    '# Rules',
    '',
    ...rules.map(
      ({ meta }) =>
        `- [\`${meta.id}\`](${meta.id}.md): ${meta.title} (${meta.appliesTo.map((k) => SUBJECTS[k]).join(', ')})`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Every generated page: file name in docs/rules → content. */
export function rulePages(rules: readonly Rule[] = RULES): Map<string, string> {
  return new Map([
    ['README.md', renderIndex(rules)],
    ...rules.map((rule) => [`${rule.meta.id}.md`, renderRulePage(rule)] as const),
  ]);
}

/** The files of docs/rules that differ from what the metadata generates (missing, stale or extra). */
export function stalePages(dir = RULE_DOCS_DIR, pages = rulePages()): string[] {
  let present: string[] = [];
  try {
    present = readdirSync(dir).filter((f) => f.endsWith('.md'));
  } catch {
    // No directory yet: every page is missing.
  }
  const stale = [...pages].filter(([file, text]) => {
    try {
      return readFileSync(path.join(dir, file), 'utf8') !== text;
    } catch {
      return true;
    }
  });
  return [...stale.map(([file]) => file), ...present.filter((f) => !pages.has(f))].sort();
}

export function main(argv: readonly string[] = process.argv.slice(2)): number {
  const pages = rulePages();
  const stale = stalePages(RULE_DOCS_DIR, pages);
  if (argv.includes('--check')) {
    if (stale.length > 0) process.stderr.write(`stale rule pages (run npm run docs): ${stale.join(', ')}\n`);
    return stale.length > 0 ? 1 : 0;
  }
  mkdirSync(RULE_DOCS_DIR, { recursive: true });
  for (const file of stale) {
    const target = path.join(RULE_DOCS_DIR, file);
    const text = pages.get(file);
    if (text === undefined) rmSync(target);
    else writeFileSync(target, text, 'utf8');
    process.stdout.write(
      `${text === undefined ? 'removed' : 'wrote'} ${path.relative(process.cwd(), target)}\n`,
    );
  }
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (err) {
    process.stderr.write(
      `generate-rule-docs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  }
}
