/**
 * Benchmark section: how long `ssm-audit` takes to start and answer (issue 11 item 3). The bin is spawned
 * the way a shell runs it (`node scripts/ssm-audit/bin.js …`, stdout to a pipe), once to warm the file cache
 * and then RUNS times per command; the median wall time is compared with the target. Printed only.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'scripts', 'ssm-audit', 'bin.js');
export const STARTUP_RUNS = 5;

/** Issue 11: the rule list within 0.3 s, a scan of the demo fleet within 1 s. */
export const STARTUP_CASES: readonly { args: string[]; targetSeconds: number }[] = [
  { args: ['rules'], targetSeconds: 0.3 },
  { args: ['scan', '--snapshot', 'test/fixtures/demo/demo-fleet.json'], targetSeconds: 1 },
];

interface BuildCli {
  isFresh(): boolean;
  buildCli(): unknown;
}

/** Wall seconds of one run of the bin, from spawn to exit. */
function timeRun(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let err = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      // 0 = nothing failing, 1 = findings at/above --fail-on (the demo fleet has some).
      if (code !== 0 && code !== 1) reject(new Error(`ssm-audit ${args.join(' ')} exited ${code}: ${err}`));
      else resolve(seconds);
    });
  });
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function startupReport(runs = STARTUP_RUNS): Promise<string> {
  // The figures are for the current sources: build the bundle first if it is missing or stale.
  const build = require('../ssm-audit/build.js') as BuildCli;
  if (!build.isFresh()) build.buildCli();
  const rows: string[][] = [];
  for (const { args, targetSeconds } of STARTUP_CASES) {
    await timeRun(args);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timeRun(args));
    const m = median(times);
    rows.push([
      `ssm-audit ${args.join(' ')}`,
      m.toFixed(2),
      Math.min(...times).toFixed(2),
      Math.max(...times).toFixed(2),
      m <= targetSeconds ? `met (<= ${targetSeconds} s)` : `MISSED (> ${targetSeconds} s)`,
    ]);
  }
  const headers = ['command', 'median s', 'min s', 'max s', 'target'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    `(${runs} runs each after one warm-up, spawned as \`node scripts/ssm-audit/bin.js …\` with stdout to a pipe; npx adds npm's own start-up)`,
  ].join('\n');
}
