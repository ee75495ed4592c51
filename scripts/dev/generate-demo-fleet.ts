/**
 * Writes the demo fleet fixtures from test/support/demo-fleet.ts:
 *   node -r tsx/cjs scripts/dev/generate-demo-fleet.ts
 * test/demo-fleet.test.ts fails when the committed JSON and the code disagree, so re-run this after
 * every change to the demo fleet.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { buildDemoFleet, buildDemoFleetAfter, toFixtureJson } from '../../test/support/demo-fleet';

export const DEMO_FIXTURE_DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'demo');

export const DEMO_FIXTURES: readonly { file: string; build: () => SnapshotInput }[] = [
  { file: 'demo-fleet.json', build: buildDemoFleet },
  { file: 'demo-fleet-after.json', build: buildDemoFleetAfter },
];

export async function main(): Promise<void> {
  await mkdir(DEMO_FIXTURE_DIR, { recursive: true });
  for (const { file, build } of DEMO_FIXTURES) {
    const target = path.join(DEMO_FIXTURE_DIR, file);
    const json = toFixtureJson(build());
    await writeFile(target, json, 'utf8');
    process.stdout.write(
      `wrote ${path.relative(process.cwd(), target)} (${(json.length / 1024).toFixed(0)} KiB)\n`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `generate-demo-fleet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}
