import { RULE_IDS } from '../rules';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { stringify as csvStringify } from 'csv-stringify/sync';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  anActivation,
  aNetwork,
  anInstance,
  aRole,
  aSnapshot,
  instanceInfo,
  trustFor,
} from './support/builders';
import { buildSyntheticSnapshot } from './support/synthetic';
import { main, streamWriter } from '../scripts/ssm-audit/cli';
import { csvChunks, jsonChunks, writeChunks } from '../scripts/ssm-audit/report';
import { FINDING_FIELDS, type Finding } from '../shared/model';
import type { SnapshotInput } from '../shared/snapshot/schema';
import { POLICY_ARNS } from '../shared/knowledge/ssm-requirements';

/** DESIGN "CLI contract": `ssm-audit scan --snapshot FILE [--format] [--rule]... [--instance]... [--fail-on]`. */

const GOOD = 'i-0123456789abcdef0';
const BAD = 'i-0fedcba9876543210';
const MI = 'mi-0123456789abcdef0';
const ANSI = /\u001b\[/;

const profileRole = aRole({
  name: 'SSMInstanceProfile',
  profiles: ['SSMInstanceProfile'],
  managed: [POLICY_ARNS.core],
});
const serviceRole = aRole({
  name: 'SSMServiceRole',
  trust: trustFor('ssm.amazonaws.com'),
  managed: [POLICY_ARNS.core],
});

/** Every rule passes or does not apply: a profile with Core, a NAT path, Online on Amazon Linux 2023. */
const allGood = (extra: { activations?: ReturnType<typeof anActivation>[] } = {}): SnapshotInput =>
  aSnapshot({
    instances: [anInstance({ id: GOOD })],
    ec2: aNetwork(),
    infos: [instanceInfo({ id: GOOD }), instanceInfo({ id: MI })],
    roles: [profileRole, serviceRole],
    activations: extra.activations ?? [],
  });

/** GOOD as above, plus BAD: no instance profile and DHMC off, never registered. */
const withFailure = (): SnapshotInput =>
  aSnapshot({
    instances: [anInstance({ id: GOOD }), anInstance({ id: BAD, profile: null, privateIp: '10.0.1.11' })],
    ec2: aNetwork(),
    infos: [instanceInfo({ id: GOOD })],
    roles: [profileRole],
  });

let dir: string;
let files: { good: string; failing: string; warnOnly: string; broken: string };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-audit-cli-'));
  const write = (name: string, value: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(value, null, 2));
    return file;
  };
  const broken = JSON.parse(JSON.stringify(withFailure()));
  delete broken.ec2.Reservations[0].Instances[0].State;
  files = {
    good: write('good.json', allGood()),
    failing: write('failing.json', withFailure()),
    // An expired activation is a WARN (severity LOW) and nothing else is wrong.
    warnOnly: write(
      'warn-only.json',
      allGood({
        activations: [
          anActivation({ id: 'e488f2f6-e686-4afb-8a04-ef6dfe1a2b3c', expires: '2026-01-01T00:00:00Z' }),
        ],
      }),
    ),
    broken: write('broken.json', broken),
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], options: { isTTY?: boolean } = {}) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTTY: options.isTTY ?? false,
  });
  return { code, out, err };
}

const json = (out: string) => JSON.parse(out) as Finding[];

/** RFC 4180 reader, enough for csv-stringify's output (quoted fields with "" escapes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') endField();
    else if (ch === '\n') endRow();
    else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

describe('ssm-audit scan --format json', () => {
  it('prints a JSON array of findings with exactly the DESIGN §3 fields and known rule ids', async () => {
    // Act
    const { code, out, err } = await run(['scan', '--snapshot', files.failing, '--format', 'json']);
    // Assess
    expect(err).toBe('');
    expect(code).toBe(1);
    const findings = json(out);
    expect(Array.isArray(findings)).toBe(true);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(Object.keys(finding).sort()).toEqual([...FINDING_FIELDS].sort());
      expect(RULE_IDS).toContain(finding.ruleId);
    }
    expect(findings).toContainEqual(
      expect.objectContaining({ resourceId: BAD, ruleId: 'instance-permissions', status: 'FAIL' }),
    );
  });

  it.each([
    { case: 'a FAIL exists → 1', file: 'failing', args: [], expected: 1 },
    {
      case: 'a FAIL exists but --fail-on none → 0',
      file: 'failing',
      args: ['--fail-on', 'none'],
      expected: 0,
    },
    { case: 'everything passes → 0', file: 'good', args: [], expected: 0 },
    {
      case: 'everything passes, even with --fail-on WARN → 0',
      file: 'good',
      args: ['--fail-on', 'WARN'],
      expected: 0,
    },
    { case: 'only warnings → 0 by default', file: 'warnOnly', args: [], expected: 0 },
    {
      case: 'only warnings with --fail-on WARN → 1',
      file: 'warnOnly',
      args: ['--fail-on', 'WARN'],
      expected: 1,
    },
    { case: 'a FAIL with --fail-on ERROR → 0', file: 'failing', args: ['--fail-on', 'ERROR'], expected: 0 },
  ] as const)('exit status: $case', async ({ file, args, expected }) => {
    // Act
    const { code, out } = await run(['scan', '--snapshot', files[file], '--format', 'json', ...args]);
    // Assess
    expect(code).toBe(expected);
    const statuses = new Set(json(out).map((f) => f.status));
    // The fixtures are what their names say.
    if (file === 'good')
      expect([...statuses].every((s) => s === 'PASS' || s === 'NOT_APPLICABLE')).toBe(true);
    if (file === 'warnOnly') expect([...statuses].sort()).toEqual(['NOT_APPLICABLE', 'PASS', 'WARN']);
    if (file === 'failing') expect(statuses.has('FAIL')).toBe(true);
  });
});

describe('ssm-audit scan filters', () => {
  it('--rule network-path prints only that rule', async () => {
    // Act
    const { code, out } = await run([
      'scan',
      '--snapshot',
      files.failing,
      '--format',
      'json',
      '--rule',
      'network-path',
    ]);
    // Assess
    const findings = json(out);
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((f) => f.ruleId))).toEqual(new Set(['network-path']));
    expect(code).toBe(0); // BAD fails instance-permissions, not network-path
  });

  it('--rule nope → exit 2 and stderr lists the valid ids', async () => {
    // Act
    const { code, out, err } = await run(['scan', '--snapshot', files.good, '--rule', 'nope']);
    // Assess
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('nope');
    for (const id of RULE_IDS) expect(err).toContain(id);
  });

  it('--instance prints only that instance', async () => {
    // Act
    const { code, out } = await run([
      'scan',
      '--snapshot',
      files.failing,
      '--format',
      'json',
      '--instance',
      GOOD,
    ]);
    // Assess
    const findings = json(out);
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((f) => f.resourceId))).toEqual(new Set([GOOD]));
    expect(code).toBe(0); // BAD's FAIL is filtered out
  });

  it.each([
    { case: 'a malformed id', id: 'bad' },
    { case: 'an id not in the snapshot', id: 'i-0aaaaaaaaaaaaaaa0' },
  ])('--instance with $case → exit 2 naming it', async ({ id }) => {
    // Act
    const { code, out, err } = await run(['scan', '--snapshot', files.failing, '--instance', id]);
    // Assess
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(id);
  });

  it('a broken snapshot → exit 2 and stderr names the JSON path', async () => {
    // Act
    const { code, out, err } = await run(['scan', '--snapshot', files.broken, '--format', 'json']);
    // Assess
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('$.ec2.Reservations[0].Instances[0].State');
  });

  it('a missing snapshot file → exit 2', async () => {
    // Act
    const { code, err } = await run(['scan', '--snapshot', join(dir, 'absent.json')]);
    // Assess
    expect(code).toBe(2);
    expect(err).toContain('file not found');
  });
});

describe('ssm-audit scan --format csv', () => {
  it('has the FINDING_FIELDS header and JSON in the evidence column', async () => {
    // Act
    const { code, out } = await run(['scan', '--snapshot', files.failing, '--format', 'csv']);
    // Assess
    expect(code).toBe(1);
    expect(out.split('\n')[0]).toBe(FINDING_FIELDS.join(','));
    const [header, ...rows] = parseCsv(out);
    const evidenceColumn = header!.indexOf('evidence');
    const asJson = json((await run(['scan', '--snapshot', files.failing, '--format', 'json'])).out);
    expect(rows).toHaveLength(asJson.length);
    rows.forEach((row, i) => {
      expect(row).toHaveLength(FINDING_FIELDS.length);
      expect(JSON.parse(row[evidenceColumn]!)).toEqual(asJson[i]!.evidence);
      expect(row[header!.indexOf('ruleId')]).toBe(asJson[i]!.ruleId);
    });
  });
});

describe('ssm-audit scan --format table', () => {
  it('opens with how many cannot be managed, lists them with fix: lines, ends with the summary, without ANSI codes off a TTY', async () => {
    // Act
    const { code, out } = await run(['scan', '--snapshot', files.failing, '--format', 'table']);
    // Assess
    expect(code).toBe(1);
    const lines = out.split('\n');
    expect(lines[1]).toMatch(/^\d+ of \d+ running instances? .*cannot be managed/);
    const unmanaged = lines.findIndex((l) => l.startsWith('Cannot be managed'));
    expect(unmanaged).toBeGreaterThan(1);
    const summary = lines.indexOf('Summary by rule and status');
    expect(summary).toBeGreaterThan(unmanaged);
    expect(out).toContain(BAD);
    const failure = json((await run(['scan', '--snapshot', files.failing, '--format', 'json'])).out).find(
      (f) => f.resourceId === BAD && f.ruleId === 'instance-permissions',
    )!;
    // The fix may wrap between words (never inside an id or a command): compare with the line breaks as spaces.
    expect(out.replace(/\s+/g, ' ')).toContain(`fix: ${failure.remediation}`);
    expect(out).not.toMatch(ANSI);
  });

  it('shows the Name tag next to each failing instance id', async () => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: BAD, profile: null, tags: { Name: 'legacy-batch-7' } })],
      ec2: aNetwork(),
      roles: [],
    });
    const file = join(dir, 'named.json');
    writeFileSync(file, JSON.stringify(snapshot));
    // Act
    const { out } = await run(['scan', '--snapshot', file]);
    // Assess
    expect(out).toMatch(new RegExp(`^ +${BAD} legacy-batch-7\\b`, 'm'));
  });

  it('is the default format', async () => {
    const { out } = await run(['scan', '--snapshot', files.failing]);
    expect(out).toContain('Summary by rule and status');
  });

  it('colours on a TTY, and --no-color turns it off', async () => {
    // Act
    const coloured = await run(['scan', '--snapshot', files.failing], { isTTY: true });
    const plain = await run(['scan', '--snapshot', files.failing, '--no-color'], { isTTY: true });
    // Assess
    expect(coloured.out).toMatch(ANSI);
    expect(plain.out).not.toMatch(ANSI);
  });

  it('says so when everything passes', async () => {
    const { code, out } = await run(['scan', '--snapshot', files.good]);
    expect(code).toBe(0);
    expect(out).toContain('Every evaluated resource passes.');
    expect(out).not.toContain('Cannot be managed (');
    expect(out).not.toContain('Other failures');
  });
});

describe('ssm-audit --help', () => {
  it.each([
    { case: '--help', args: ['--help'], expected: /Usage: ssm-audit/ },
    {
      case: 'scan --help',
      args: ['scan', '--help'],
      expected: /Usage: ssm-audit scan[\s\S]*--snapshot[\s\S]*--format/,
    },
  ])('$case exits 0 and prints usage', async ({ args, expected }) => {
    // Act
    const { code, out } = await run(args);
    // Assess
    expect(code).toBe(0);
    expect(out).toMatch(expected);
  });
});

describe('the ssm-audit bin, end to end', () => {
  it('node scripts/ssm-audit/bin.js scan --snapshot FILE --format json', () => {
    // Act
    const child = spawnSync(
      process.execPath,
      ['scripts/ssm-audit/bin.js', 'scan', '--snapshot', files.failing, '--format', 'json'],
      {
        cwd: resolve(__dirname, '..'),
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    // Assess
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.status).toBe(1);
    const findings = json(child.stdout);
    expect(findings).toContainEqual(
      expect.objectContaining({ resourceId: BAD, ruleId: 'instance-permissions', status: 'FAIL' }),
    );
    for (const finding of findings) expect(Object.keys(finding).sort()).toEqual([...FINDING_FIELDS].sort());
  }, 300_000);
});

describe('issue 9: echoed ids are bounded', () => {
  it.each([
    {
      case: 'a 100,000-character --rule',
      args: ['--rule', 'r'.repeat(100_000)],
      expected: `unknown rule id ${'r'.repeat(64)}…; valid ids: ${RULE_IDS.join(', ')}`,
    },
    {
      case: '100 unknown --rule ids',
      args: ['--rule', Array.from({ length: 100 }, (_, i) => `rule-${i}`).join(',')],
      expected: `unknown rule ids rule-0, rule-1, rule-2, rule-3, rule-4 and 95 more; valid ids: ${RULE_IDS.join(', ')}`,
    },
    {
      case: 'a 100,000-character --instance',
      args: ['--instance', 'i'.repeat(100_000)],
      expected: `invalid instance id "${'i'.repeat(64)}"…: expected i-0123456789abcdef0 or mi-0123456789abcdef0`,
    },
    {
      case: '50 malformed --instance ids',
      args: ['--instance', Array.from({ length: 50 }, (_, i) => `i-${i}`).join(',')],
      expected:
        'invalid instance ids "i-0", "i-1", "i-2", "i-3", "i-4" and 45 more: expected i-0123456789abcdef0 or mi-0123456789abcdef0',
    },
  ])(
    '$case → exit 2 with a one-line message quoting at most 64 characters per id, and a hint',
    async ({ args, expected }) => {
      // Act
      const { code, out, err } = await run(['scan', '--snapshot', files.good, ...args]);
      // Assess
      expect(code).toBe(2);
      expect(out).toBe('');
      const hint =
        args[0] === '--rule'
          ? '`ssm-audit rules` describes each rule'
          : '`ssm-audit scan --help` lists the options';
      expect(err).toBe(`ssm-audit: ${expected}\nhint: ${hint}\n`);
    },
  );

  it('--instance naming 300 absent instances lists five of them', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const { code, err } = await run(['scan', '--snapshot', files.failing, '--instance', ids.join(',')]);
    expect(code).toBe(2);
    expect(err).toMatch(/^ssm-audit: no instance i-0{17}, i-0{16}1, .* and 295 more in /);
  });
});

describe('issue 9: --format json and csv are streamed', () => {
  /** Each piece written is at most this long: never one string of the whole output. */
  const PIECE_BOUND = 128 * 1024;

  /** `count` findings shaped like the real ones of the failing fixture. */
  async function manyFindings(count: number): Promise<Finding[]> {
    const templates = json((await run(['scan', '--snapshot', files.failing, '--format', 'json'])).out);
    return Array.from({ length: count }, (_, i) => ({
      ...templates[i % templates.length]!,
      resourceId: `i-${i.toString(16).padStart(17, '0')}`,
    }));
  }

  /** What the CLI printed before it streamed: one string of everything. */
  const oneStringJson = (findings: readonly Finding[]) =>
    `${JSON.stringify(
      findings.map((f) => Object.fromEntries(FINDING_FIELDS.map((k) => [k, f[k]]))),
      null,
      2,
    )}\n`;
  const oneStringCsv = (findings: readonly Finding[]) =>
    csvStringify(
      findings.map((f) => FINDING_FIELDS.map((k) => (k === 'evidence' ? JSON.stringify(f.evidence) : f[k]))),
      { header: true, columns: [...FINDING_FIELDS] },
    );

  it('writes 100,000 findings as bounded pieces, waiting whenever the stream is full', async () => {
    // Prepare: a slow destination with a small buffer, so backpressure happens
    const findings = await manyFindings(100_000);
    const pieces: string[] = [];
    let maxBuffered = 0;
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        pieces.push(chunk);
        setImmediate(callback);
      },
    });
    const write = streamWriter(sink);
    let waits = 0;
    const counting = async (piece: string) => {
      maxBuffered = Math.max(maxBuffered, sink.writableLength);
      if (sink.writableNeedDrain) throw new Error('wrote to a stream that asked to drain');
      await write(piece);
      if (sink.writableLength === 0) waits++;
    };
    // Act
    await writeChunks(jsonChunks(findings), counting);
    // Assess
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(PIECE_BOUND);
    expect(maxBuffered).toBeLessThanOrEqual(PIECE_BOUND);
    expect(waits).toBeGreaterThan(0);
    const text = pieces.join('');
    const parsed = json(text);
    expect(parsed).toHaveLength(100_000);
    expect(parsed[99_999]!.resourceId).toBe(`i-${(99_999).toString(16).padStart(17, '0')}`);
    expect(text).toBe(oneStringJson(findings));
  });

  it.each([
    { case: 'no findings', count: 0 },
    { case: 'one finding', count: 1 },
    { case: '1,001 findings', count: 1_001 },
  ])('json and csv are byte for byte what one string was ($case)', async ({ count }) => {
    // Prepare: values csv must quote
    const findings = (await manyFindings(count)).map((f, i) =>
      i % 2 ? { ...f, message: 'a "quoted", multi-line\nmessage é', evidence: { note: 'x,"y"\nz' } } : f,
    );
    // Act
    const asJson = [...jsonChunks(findings)].join('');
    const asCsv = [...csvChunks(findings)].join('');
    // Assess
    expect(asJson).toBe(oneStringJson(findings));
    expect(asCsv).toBe(oneStringCsv(findings));
  });

  it('scan of a 2,000-instance snapshot prints json and csv in bounded pieces, the same findings', async () => {
    // Prepare
    const file = join(dir, 'fleet-2000.json');
    writeFileSync(file, JSON.stringify(buildSyntheticSnapshot({ instances: 2_000 })));
    const scan = async (format: string) => {
      const pieces: string[] = [];
      const code = await main(['node', 'ssm-audit', 'scan', '--snapshot', file, '--format', format], {
        out: (text) => pieces.push(text),
        write: async (piece) => {
          pieces.push(piece);
        },
        err: () => undefined,
        isTTY: false,
      });
      return { code, pieces, text: pieces.join('') };
    };
    // Act
    const asJson = await scan('json');
    const asCsv = await scan('csv');
    // Assess
    const findings = json(asJson.text);
    expect(asJson.code).toBe(1);
    expect(findings.length).toBeGreaterThan(10_000);
    expect(asJson.pieces.length).toBeGreaterThan(10);
    for (const { pieces } of [asJson, asCsv])
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(PIECE_BOUND);
    expect(asJson.text).toBe(oneStringJson(findings));
    expect(parseCsv(asCsv.text)).toHaveLength(findings.length + 1);
  });
});
