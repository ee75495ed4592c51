/**
 * `npm run chaos`: the store's guarantees under faults (DESIGN §4), against dynalite and a mocked SNS.
 * Prints one row per fault and exits non-zero if any finding is wrong, any history is lost or any alert
 * is duplicated or missing. `--seed N` reproduces a run; `--rounds N` sets the overlapping rounds.
 */
import { failures, formatTable, runChaos } from './chaos-harness';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const seed = value('--seed') ?? 20261123;
  const started = performance.now();
  const { rows, problems } = await runChaos({
    seed,
    overlapRounds: value('--rounds'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`chaos (seed ${seed})\n\n${formatTable(rows)}\n\n`);
  process.stdout.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const n = failures(rows);
  if (n > 0 || problems.length > 0) {
    process.stdout.write(`\n${n} guarantee violation(s):\n${problems.slice(0, 40).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write('no finding wrong, no history lost, no alert duplicated or missing\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 2;
});
