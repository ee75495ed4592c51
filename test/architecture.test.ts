import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The data path of DESIGN §1 as an import rule: code may only import what comes before it. A layer
 * lists the layers it may import (besides itself); anything else is an upward import and fails here,
 * naming the file, the line and the rule it breaks.
 */

const ROOT = path.join(__dirname, '..');

/** The layers of `shared/`, in order; `base` is the files directly in shared/. */
const SHARED_LAYERS: Record<string, readonly string[]> = {
  base: [],
  knowledge: ['base'],
  aws: ['base', 'knowledge'],
  policy: ['base', 'knowledge'],
  snapshot: ['base', 'knowledge', 'policy'],
  agent: ['base', 'knowledge', 'policy', 'snapshot'],
  network: ['base', 'knowledge', 'policy', 'snapshot', 'agent'],
  collect: ['base', 'aws', 'knowledge', 'snapshot'],
  events: ['base', 'snapshot', 'collect'],
  engine: ['base', 'knowledge', 'policy', 'snapshot', 'agent', 'network', 'collect'],
  store: ['base', 'aws'],
  alerts: ['base', 'aws', 'store'],
  pipeline: ['base', 'knowledge', 'aws', 'snapshot', 'engine', 'store', 'alerts'],
  report: ['base', 'snapshot'],
};

/** What a rule may use: facts, analyses and the rule API — never the engine's internals. */
const RULE_MAY_IMPORT = ['base', 'knowledge', 'policy', 'snapshot', 'agent', 'network', 'engine/rule.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

interface Edge {
  from: string;
  to: string;
  line: number;
}

const IMPORT =
  /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}(?:\/[^'"]*)?)\1/gm;

/** Every relative import, require and dynamic import of a file, resolved to a repository path. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): Edge[] {
  const edges: Edge[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const line = text.slice(0, match.index).split('\n').length;
    const target = path.relative(ROOT, path.resolve(path.dirname(file), match[2]!));
    edges.push({ from: path.relative(ROOT, file), to: target, line });
  }
  return edges;
}

/** The shared layer of a path ('shared/policy/x' → policy; 'shared/model' → base), or undefined outside shared/. */
function layerOf(p: string): string | undefined {
  const parts = p.split(path.sep);
  if (parts[0] !== 'shared') return undefined;
  return parts.length === 2 ? 'base' : parts[1];
}

function violations(): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles(path.join(ROOT, 'shared'))) {
    for (const edge of importsOf(file)) {
      const from = layerOf(edge.from)!;
      const to = layerOf(edge.to);
      const where = `${edge.from}:${edge.line} imports ${edge.to}`;
      if (to === undefined) {
        problems.push(`${where}: shared/ imports only shared/ (entry points inject rules and runtime)`);
      } else if (!(from in SHARED_LAYERS)) {
        problems.push(
          `${edge.from}: shared/${from} is not a layer of the data path (add it to SHARED_LAYERS)`,
        );
      } else if (to !== from && !SHARED_LAYERS[from]!.includes(to)) {
        problems.push(`${where}: shared/${from} may import ${SHARED_LAYERS[from]!.join(', ')}, not ${to}`);
      }
    }
  }
  for (const file of sourceFiles(path.join(ROOT, 'rules'))) {
    for (const edge of importsOf(file)) {
      const to = layerOf(edge.to);
      const where = `${edge.from}:${edge.line} imports ${edge.to}`;
      if (edge.to.startsWith(`rules${path.sep}`)) continue;
      const allowed =
        to !== undefined &&
        RULE_MAY_IMPORT.some((entry) =>
          entry.includes('/') ? `${edge.to}.ts` === path.join('shared', entry) : entry === to,
        );
      if (!allowed) problems.push(`${where}: a rule may import ${RULE_MAY_IMPORT.join(', ')}`);
    }
  }
  for (const file of sourceFiles(path.join(ROOT, 'functions'))) {
    for (const edge of importsOf(file)) {
      if (/^(scripts|test)\//.test(edge.to.split(path.sep).join('/')))
        problems.push(
          `${edge.from}:${edge.line} imports ${edge.to}: deployed code never imports scripts/ or test/`,
        );
    }
  }
  for (const file of sourceFiles(path.join(ROOT, 'scripts', 'ssm-audit'))) {
    for (const edge of importsOf(file)) {
      if (/^(scripts\/dev|test)\//.test(edge.to.split(path.sep).join('/')))
        problems.push(
          `${edge.from}:${edge.line} imports ${edge.to}: the shipped CLI never imports dev tools or tests`,
        );
    }
  }
  return problems;
}

it('no upward import: shared/ follows the data path, never imports rules/; rules use only the rule API', () => {
  expect(violations()).toEqual([]);
});

it('the checker sees imports, requires and dynamic imports (a planted upward import is caught)', () => {
  const planted = path.join(ROOT, 'shared', 'collect', 'planted.ts');
  const text = [
    "import { RULES } from '../../rules';",
    "const x = require('../engine/evaluate');",
    "type T = typeof import('../store/diff');",
  ].join('\n');
  const targets = importsOf(planted, text).map((e) => e.to);
  expect(targets).toEqual(
    ['rules', 'shared/engine/evaluate', 'shared/store/diff'].map((t) => t.split('/').join(path.sep)),
  );
  expect(targets.map(layerOf)).toEqual([undefined, 'engine', 'store']);
  expect(SHARED_LAYERS.collect).not.toContain('engine');
  expect(SHARED_LAYERS.collect).not.toContain('store');
});

it('every folder of shared/ is a declared layer', () => {
  const folders = readdirSync(path.join(ROOT, 'shared')).filter((name) =>
    statSync(path.join(ROOT, 'shared', name)).isDirectory(),
  );
  expect(folders.filter((f) => !(f in SHARED_LAYERS))).toEqual([]);
});
