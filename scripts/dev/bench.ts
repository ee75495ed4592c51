/**
 * Benchmark of the audit core (DESIGN §7 non-functional targets): `npm run bench [-- --sizes 1000,10000]`.
 *
 * Each section measures one cost and prints its own table; later work adds sections (API calls per
 * audit, DynamoDB writes) to SECTIONS without touching the others. Figures are printed, never asserted:
 * a slow machine should not fail a build.
 *
 * Evaluation section: for each size a synthetic snapshot is generated and streamed to a temp file by this
 * process, then a fresh child process loads, normalizes and evaluates it. The child keeps the generator's
 * memory out of the peak RSS figure, so that figure is what `ssm-audit scan` would need for the file.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RULES } from '../../rules';
import { evaluateInventory } from '../../shared/engine/evaluate';
import { buildInventory } from '../../shared/snapshot/inventory';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import { API_CALL_SIZES, measureApiCalls, renderApiCallRows, type ApiCallRow } from './bench-api-calls';
import { blackHoleSection } from './bench-faults';
import { patternReport } from './bench-patterns';
import { measureReport, renderReportRows } from './bench-report';
import { startupReport } from './bench-startup';
import { measureStore, renderStoreRows, STORE_FLEET } from './bench-store';
import { ORG_DEFAULTS, renderOrgBench, simulateOrganization } from './bench-org';
import { writeSnapshotFile } from '../../test/support/snapshot-file';
import { buildSynthetic } from '../../test/support/synthetic';

export interface BenchOptions {
  sizes: number[];
  /** Fleet sizes of the API-call section (default 1,000 / 10,000 / 100,000; --sizes sets both). */
  apiSizes: number[];
  /** Fleet size of the DynamoDB-writes section (default 10,000; --store-size). */
  storeSize: number;
  seed: number;
  /** Organization-mode simulation: accounts (default 1,000; --org-accounts) and accounts run by the workers (--org-workers). */
  orgAccounts?: number;
  orgWorkers?: number;
}

export interface BenchSection {
  title: string;
  run(options: BenchOptions): Promise<string>;
}

const DEFAULT_SIZES = [10_000, 100_000];
/** DESIGN §7 / the benchmark issue: 100,000 instances evaluated in under 5 s, peak RSS under 1.5 GB. */
export const TARGETS = { evaluateSecondsAt100k: 5, peakRssMb: 1536 } as const;
const RESULT_PREFIX = 'BENCH_RESULT ';

const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------------------------------
// Peak memory

/**
 * Peak RSS so far, in bytes. The sampler only sees the event loop's idle moments (evaluation is
 * synchronous), so the kernel's high-water mark (resourceUsage().maxRSS, in KiB) is taken as well.
 */
export class PeakRss {
  private peak = process.memoryUsage().rss;
  private readonly timer: NodeJS.Timeout;
  constructor(intervalMs = 20) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }
  sample(): number {
    this.peak = Math.max(this.peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    return this.peak;
  }
  stop(): number {
    clearInterval(this.timer);
    return this.sample();
  }
}

// ---------------------------------------------------------------------------------------------------
// Section: load + normalize + evaluate

export interface AuditMeasurement {
  instances: number;
  hybridNodes: number;
  loadSeconds: number;
  evaluateSeconds: number;
  findings: number;
  peakRssBytes: number;
}

/** Loads, normalizes and evaluates one snapshot file, timing each phase (runs in the child process). */
export async function measureAudit(file: string): Promise<AuditMeasurement> {
  const memory = new PeakRss();
  const t0 = performance.now();
  const snapshot = await loadSnapshotFile(file);
  const inventory = buildInventory(snapshot);
  const t1 = performance.now();
  const result = evaluateInventory(inventory, { rules: RULES });
  const t2 = performance.now();
  return {
    instances: inventory.instances.size,
    hybridNodes: inventory.hybridNodes.size,
    loadSeconds: (t1 - t0) / 1000,
    evaluateSeconds: (t2 - t1) / 1000,
    findings: result.findings.length,
    peakRssBytes: memory.stop(),
  };
}

function runChild(file: string): Promise<AuditMeasurement> {
  return new Promise((resolve, reject) => {
    // Same flags as this process (tsx loader, --expose-gc, any --cpu-prof the user passed).
    const child = spawn(process.execPath, [...process.execArgv, __filename, '--measure', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        reject(new Error(`measuring ${file} failed (exit ${code ?? signal}); output: ${out.slice(-500)}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as AuditMeasurement);
    });
  });
}

export interface EvaluationRow extends AuditMeasurement {
  size: number;
  roles: number;
  vpcs: number;
  tier: string;
  snapshotMb: number;
  generateSeconds: number;
}

async function measureSize(size: number, seed: number, dir: string): Promise<EvaluationRow> {
  const file = path.join(dir, `synthetic-${size}.json`);
  const t0 = performance.now();
  let generated: ReturnType<typeof buildSynthetic> | undefined = buildSynthetic({ instances: size, seed });
  const counts = generated.counts;
  await writeSnapshotFile(generated.snapshot, file);
  const generateSeconds = (performance.now() - t0) / 1000;
  // Drop the generator's objects before the next size is generated.
  generated = undefined;
  gc?.();
  const { size: bytes } = await stat(file);
  const measurement = await runChild(file);
  await rm(file, { force: true });
  return {
    ...measurement,
    size,
    roles: counts.roles,
    vpcs: counts.vpcs,
    tier: counts.tier,
    snapshotMb: bytes / MB,
    generateSeconds,
  };
}

function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderEvaluationRows(rows: readonly EvaluationRow[]): string {
  const fmt = (n: number, digits = 2) => n.toFixed(digits);
  const table = renderTable(
    [
      'instances',
      'hybrid',
      'roles',
      'snapshot MB',
      'generate+write s',
      'load+normalize s',
      'evaluate s',
      'instances/s',
      'findings',
      'peak RSS MB',
      'evaluate target',
      'RSS target',
    ],
    rows.map((r) => {
      const peakMb = r.peakRssBytes / MB;
      const evaluated = r.instances + r.hybridNodes;
      return [
        r.instances.toLocaleString('en-US'),
        r.hybridNodes.toLocaleString('en-US'),
        String(r.roles),
        fmt(r.snapshotMb, 1),
        fmt(r.generateSeconds),
        fmt(r.loadSeconds),
        fmt(r.evaluateSeconds),
        Math.round(evaluated / Math.max(r.evaluateSeconds, 1e-9)).toLocaleString('en-US'),
        r.findings.toLocaleString('en-US'),
        fmt(peakMb, 0),
        r.size >= 100_000
          ? r.evaluateSeconds < TARGETS.evaluateSecondsAt100k
            ? 'met (< 5 s)'
            : 'MISSED (>= 5 s)'
          : 'n/a (100k only)',
        peakMb < TARGETS.peakRssMb ? 'met (< 1.5 GB)' : 'MISSED (>= 1.5 GB)',
      ];
    }),
  );
  return `${table}\n(instances/s = (EC2 + hybrid) / evaluate s; peak RSS of the process that loads and evaluates)`;
}

export const evaluationSection: BenchSection = {
  title: 'Load, normalize and evaluate a synthetic fleet',
  async run(options) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ssm-audit-bench-'));
    const rows: EvaluationRow[] = [];
    try {
      for (const size of options.sizes) {
        process.stderr.write(`  ${size.toLocaleString('en-US')} instances ...\n`);
        rows.push(await measureSize(size, options.seed, dir));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return renderEvaluationRows(rows);
  },
};

export const apiCallSection: BenchSection = {
  title: 'API calls per audit (collection against a mocked account)',
  async run(options) {
    const rows: ApiCallRow[] = [];
    for (const size of options.apiSizes) {
      process.stderr.write(`  collecting ${size.toLocaleString('en-US')} instances ...\n`);
      rows.push(await measureApiCalls(size));
      gc?.();
    }
    return renderApiCallRows(rows, renderTable);
  },
};

export const storeSection: BenchSection = {
  title: `DynamoDB writes per audit (findings table on dynalite, ${STORE_FLEET.toLocaleString('en-US')}-instance fleet)`,
  async run(options) {
    process.stderr.write(
      `  recording ${options.storeSize.toLocaleString('en-US')} instances' findings ...\n`,
    );
    return renderStoreRows(await measureStore(options.storeSize, options.seed), renderTable);
  },
};

// ---------------------------------------------------------------------------------------------------
// Wildcard patterns (issue 9: no input can stall an audit)

export const patternSection: BenchSection = {
  title: 'Wildcard pattern matching (hostile IAM patterns, time per match)',
  async run() {
    return patternReport();
  },
};

// ---------------------------------------------------------------------------------------------------
// CLI start-up (issue 11: the bin runs the esbuild bundle)

export const startupSection: BenchSection = {
  title: 'ssm-audit start-up (median wall time of the bin)',
  run: () => startupReport(),
};

/** Every section, in print order. */
const orgSection: BenchSection = {
  title: 'Organization mode at scale: planner, workers, Lambda projection, capacity plan (issue 12)',
  async run(options) {
    const accounts = options.orgAccounts ?? ORG_DEFAULTS.accounts;
    const result = await simulateOrganization({
      ...ORG_DEFAULTS,
      accounts,
      workerAccounts: Math.min(accounts, options.orgWorkers ?? ORG_DEFAULTS.workerAccounts ?? accounts),
    });
    return renderOrgBench(result, renderTable);
  },
};

const reportSection: BenchSection = {
  title:
    'HTML report and fix plan of a large fleet: size, render, plan, the plan facts kept in the table (issue 14)',
  async run(options) {
    return renderReportRows([1_000, 10_000].map((n) => measureReport(n, options.seed)));
  },
};

export const SECTIONS: readonly BenchSection[] = [
  startupSection,
  evaluationSection,
  apiCallSection,
  storeSection,
  patternSection,
  reportSection,
  blackHoleSection,
  orgSection,
];

// ---------------------------------------------------------------------------------------------------
// CLI

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    sizes: DEFAULT_SIZES,
    apiSizes: API_CALL_SIZES,
    storeSize: STORE_FLEET,
    seed: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--sizes') {
      const sizes = value()
        .split(',')
        .map((s) => Number(s.trim().replace(/_/g, '')));
      if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
        throw new Error('--sizes expects positive integers, e.g. --sizes 1000,10000');
      }
      options.sizes = sizes;
      options.apiSizes = sizes;
    } else if (flag === '--store-size') {
      options.storeSize = Number(value().replace(/_/g, ''));
      if (!Number.isInteger(options.storeSize) || options.storeSize <= 0)
        throw new Error('--store-size expects a positive integer');
    } else if (flag === '--org-accounts' || flag === '--org-workers') {
      const n = Number(value().replace(/_/g, ''));
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} expects a positive integer`);
      if (flag === '--org-accounts') options.orgAccounts = n;
      else options.orgWorkers = n;
    } else if (flag === '--seed') {
      options.seed = Number(value());
      if (!Number.isInteger(options.seed)) throw new Error('--seed expects an integer');
    } else {
      throw new Error(
        `unknown argument ${arg} (usage: npm run bench -- [--sizes 10000,100000] [--store-size 10000] [--org-accounts 1000] [--org-workers 100] [--seed 1])`,
      );
    }
  }
  return options;
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  // The SDK is pinned by the lock file; its notice about future releases needing Node 22 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (argv[0] === '--measure' && argv[1]) {
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(await measureAudit(argv[1]))}\n`);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(
    `ssm-audit benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, seed ${options.seed}\n`,
  );
  for (const section of SECTIONS) {
    process.stdout.write(`\n## ${section.title}\n`);
    process.stdout.write(`${await section.run(options)}\n`);
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
