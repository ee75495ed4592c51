/**
 * `npm run package [-- --stage prod]`: `osls package` offline (no AWS credentials needed), then each
 * function's zip size against the 1.5 MB target. The CloudFormation template lands in .serverless/.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ZIP_TARGET_BYTES = 1.5 * 1024 * 1024;

/** Runs `osls package` into `dir` (with deploy parameters `params`); returns its exit code and output. */
export function packageService(dir: string, stage = 'dev', params: Readonly<Record<string, string>> = {}) {
  const root = path.join(__dirname, '..', '..');
  const osls = path.join(root, 'node_modules', 'osls', 'bin', 'serverless.js');
  const paramArgs = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
  return spawnSync(process.execPath, [osls, 'package', '--stage', stage, '--package', dir, ...paramArgs], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      SLS_DEPRECATION_DISABLE: '*',
    },
    timeout: 300_000,
  });
}

export function zipSizes(dir: string): { file: string; bytes: number }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.zip'))
    .map((file) => ({ file, bytes: statSync(path.join(dir, file)).size }));
}

if (require.main === module) {
  const stageIndex = process.argv.indexOf('--stage');
  const stage = stageIndex > 0 ? (process.argv[stageIndex + 1] ?? 'dev') : 'dev';
  const dir = path.join(__dirname, '..', '..', '.serverless');
  const result = packageService(dir, stage);
  process.stdout.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  if (result.status !== 0) {
    process.exitCode = result.status ?? 1;
  } else {
    process.stdout.write(
      `\nCloudFormation template: ${path.join('.serverless', 'cloudformation-template-update-stack.json')}\n`,
    );
    for (const { file, bytes } of zipSizes(dir)) {
      const mb = bytes / 1024 / 1024;
      process.stdout.write(
        `${file.padEnd(22)} ${mb.toFixed(2)} MB  ${bytes <= ZIP_TARGET_BYTES ? 'within' : 'OVER'} the 1.5 MB target\n`,
      );
    }
  }
}
