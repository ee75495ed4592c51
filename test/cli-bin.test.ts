import { RULE_IDS } from '../rules';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { version } from '../package.json';
import { type Finding } from '../shared/model';

/**
 * Issue 11 item 3: the bin runs the esbuild bundle with plain Node (no tsx), and only the live commands
 * load the AWS SDK. Spawned as a user would, with NODE_OPTIONS cleared; a preloaded module lists what
 * the process loaded. No timing is asserted here: `npm run bench` prints the start-up figures.
 */

const ROOT = resolve(__dirname, '..');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-audit-bin-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBin(args: string[], name: string) {
  const list = join(dir, `${name}.txt`);
  // Nothing of the developer's AWS setup, and no preloaded modules (NODE_OPTIONS) such as tsx.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('AWS_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
    LOADED_MODULES_OUT: list,
  });
  const child = spawnSync(
    process.execPath,
    ['--require', join(ROOT, 'test/support/loaded-modules.js'), 'scripts/ssm-audit/bin.js', ...args],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  expect(child.error).toBeUndefined();
  const modules = readFileSync(list, 'utf8').trim().split('\n');
  return { code: child.status, out: child.stdout, err: child.stderr, modules };
}

const inNodeModules = (modules: string[], pkg: string) =>
  modules.filter((m) => m.includes(`/node_modules/${pkg}`));

describe('the ssm-audit bin runs the bundle, without tsx', () => {
  it.each([
    { case: 'rules', args: ['rules'] },
    {
      case: 'scan --snapshot (the demo fleet)',
      args: ['scan', '--snapshot', 'test/fixtures/demo/demo-fleet.json', '--format', 'json'],
    },
  ])('$case: plain JavaScript, no tsx, no AWS SDK', ({ case: name, args }) => {
    // Act
    const { code, out, err, modules } = runBin(args, name.replace(/\W+/g, '-'));
    // Assess
    expect(err).toBe('');
    expect(modules).toContain(join(ROOT, 'dist/ssm-audit.js'));
    expect(modules.filter((m) => m.endsWith('.ts'))).toEqual([]);
    expect(inNodeModules(modules, 'tsx/')).toEqual([]);
    expect(inNodeModules(modules, '@aws-sdk/')).toEqual([]);
    expect(inNodeModules(modules, '@smithy/')).toEqual([]);
    if (name === 'rules') {
      expect(code).toBe(0);
      for (const id of RULE_IDS) expect(out).toContain(`${id} [`);
    } else {
      expect(code).toBe(1); // the demo fleet has failing instances
      expect((JSON.parse(out) as Finding[]).length).toBeGreaterThan(1000);
    }
  });

  it('a live command loads the AWS SDK when it runs', () => {
    // Act: no region anywhere, so it stops before any call
    const { code, err, modules } = runBin(['collect', '--out', join(dir, 'never.json')], 'collect');
    // Assess
    expect(code).toBe(2);
    expect(err).toMatch(/^ssm-audit: no AWS region/);
    expect(inNodeModules(modules, '@aws-sdk/client-ec2').length).toBeGreaterThan(0);
    expect(inNodeModules(modules, 'tsx/')).toEqual([]);
  });

  it('--version prints the package version', () => {
    const { code, out, err } = runBin(['--version'], 'version');
    expect(code).toBe(0);
    expect(out).toBe(`${version}\n`);
    expect(err).toBe('');
  });

  it('bad input: one line and a hint on stderr, exit 2, no help text', () => {
    const { code, out, err } = runBin(['scan', '--format', 'xml'], 'format');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(
      'ssm-audit: invalid --format xml: expected table, json, csv, asff or ocsf\nhint: `ssm-audit scan --help` lists the options\n',
    );
  });
});

describe('a reader that closes the pipe early (`| head`)', () => {
  it('ends quietly with status 141, never 0 and never a stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        'scripts/ssm-audit/bin.js',
        'scan',
        '--snapshot',
        'test/fixtures/demo/demo-fleet.json',
        '--format',
        'json',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read the first chunk, then go away as `head -c` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect({ code, stderr }).toEqual({ code: 141, stderr: '' });
  });
});
