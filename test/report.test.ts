import { main } from '../scripts/ssm-audit/cli';
import { wrapUnits } from '../scripts/ssm-audit/report';
import type { Finding } from '../shared/model';

/** The table report on the demo fleet answers first (issue 11 item 4): counts, causes, top fix, then the rest. */

const DEMO = 'test/fixtures/demo/demo-fleet.json';

async function run(args: string[]) {
  let out = '';
  const code = await main(['node', 'ssm-audit', 'scan', '--snapshot', DEMO, ...args], {
    out: (text) => (out += text),
    err: () => undefined,
    isTTY: false,
  });
  return { code, out };
}

let findings: Finding[];
const reports = new Map<number, string[]>();

beforeAll(async () => {
  findings = JSON.parse((await run(['--format', 'json'])).out) as Finding[];
  for (const width of [80, 100, 200]) {
    const args = width === 100 ? [] : ['--width', String(width)]; // 100 is the default off a terminal
    reports.set(width, (await run(args)).out.split('\n'));
  }
});

const oneLine = (lines: readonly string[]) => lines.join(' ').replace(/\s+/g, ' ');
const managed = () => findings.filter((f) => f.ruleId === 'managed-status');
const SECTION = /^(Cannot be managed|Other failures|Warnings|Summary by rule)/;

/** The lines of each section, by its heading. */
function sections(lines: readonly string[]): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    if (SECTION.test(line)) result.set(line, (current = []));
    else current?.push(line);
  }
  return result;
}

describe('the opening block', () => {
  it('states how many running instances and hybrid nodes cannot be managed, and the top fix, in the first 5 lines', () => {
    // Prepare
    const ec2 = managed().filter((f) => f.resourceType === 'EC2Instance');
    const running = ec2.filter((f) => f.status !== 'NOT_APPLICABLE' || f.reason === 'REGISTRATION_PENDING');
    const hybrid = managed().filter((f) => f.resourceType === 'ManagedInstance');
    const expected =
      `${ec2.filter((f) => f.status === 'FAIL').length} of ${running.length} running instances and ` +
      `${hybrid.filter((f) => f.status === 'FAIL').length} of ${hybrid.length} hybrid nodes ` +
      'cannot be managed by Systems Manager';
    expect(expected).toBe(
      '11 of 43 running instances and 6 of 844 hybrid nodes cannot be managed by Systems Manager',
    );
    // The top fix is the largest group a failing prerequisite explains (2 nodes with private DNS off on
    // their endpoint), not the generic "check the agent" of the 5 nodes no prerequisite explains.
    const largestGroupFix = managed().find((f) =>
      JSON.stringify(f.evidence).includes('ENDPOINT_PRIVATE_DNS_DISABLED'),
    )!;
    // Assess
    const first5 = oneLine(reports.get(100)!.slice(0, 5));
    expect(first5).toContain(expected);
    expect(oneLine(reports.get(100)!.slice(0, 8))).toContain('Pending: 1 still registering');
    expect(first5).toContain(
      `Top fix (2 nodes, network-path ENDPOINT_PRIVATE_DNS_DISABLED): ${largestGroupFix.remediation}`,
    );
    // At 80 columns the fix text runs one line further, but the counts and the top fix start within 5 lines.
    const first5At80 = oneLine(reports.get(80)!.slice(0, 5));
    expect(first5At80).toContain(expected);
    expect(first5At80).toContain('Top fix (2 nodes, network-path ENDPOINT_PRIVATE_DNS_DISABLED):');
  });

  it('lists the root causes with their counts, largest first, before the unmanaged nodes', () => {
    const lines = reports.get(100)!;
    const causes = lines.slice(lines.indexOf('Root causes:') + 1, lines.indexOf(''));
    expect(causes.slice(0, 3)).toEqual([
      '   5 managed-status CONNECTION_LOST — no failing prerequisite found',
      '   2 network-path ENDPOINT_PRIVATE_DNS_DISABLED',
      '   2 hybrid-service-role HYBRID_ROLE_TRUST_MISSING',
    ]);
    const total = causes.reduce((n, line) => n + Number(line.trim().split(' ')[0]), 0);
    expect(total).toBe(managed().filter((f) => f.status === 'FAIL').length);
  });

  it('--summary prints only the opening block', async () => {
    // Act
    const { code, out } = await run(['--summary']);
    // Assess
    expect(code).toBe(1);
    const full = reports.get(100)!;
    expect(out).toBe(`${full.slice(0, full.indexOf('')).join('\n')}\n\n`);
    expect(out).not.toMatch(SECTION.source.replace('^', '\\n'));
  });
});

describe('the sections', () => {
  it('lists every unmanaged node under its root cause, and everything in order: unmanaged, other failures, warnings, summary', () => {
    const lines = reports.get(200)!;
    const headings = [...sections(lines).keys()];
    expect(headings).toEqual([
      'Cannot be managed (17), by root cause',
      expect.stringMatching(/^Other failures \(\d+\)$/),
      expect.stringMatching(/^Warnings, on resources not listed above \(\d+\)$/),
      'Summary by rule and status',
    ]);
    const unmanagedLines = sections(lines).get(headings[0]!)!;
    for (const f of managed().filter((m) => m.status === 'FAIL')) {
      expect(
        unmanagedLines.some((l) => l.trimStart().startsWith(`${f.resourceId} `) || l.trim() === f.resourceId),
      ).toBe(true);
    }
  });

  it.each([80, 200])('at %i columns no failure section mentions a PASS finding', (width) => {
    for (const [heading, body] of sections(reports.get(width)!)) {
      if (!/^(Cannot be managed|Other failures)/.test(heading)) continue;
      expect(body.filter((l) => /^\s*PASS\b/.test(l))).toEqual([]);
      // A resource whose every finding passes is never listed under a failure heading.
      for (const id of new Set(findings.map((f) => f.resourceId))) {
        const own = findings.filter((f) => f.resourceId === id);
        if (own.every((f) => f.status === 'PASS' || f.status === 'NOT_APPLICABLE'))
          expect(body.some((l) => l.trimStart().startsWith(`${id} `))).toBe(false);
      }
    }
  });

  it.each([80, 200])('at %i columns each resource heads at most one entry, in one section', (width) => {
    const seen = new Map<string, string>();
    for (const [heading, body] of sections(reports.get(width)!)) {
      if (heading.startsWith('Summary')) continue;
      for (const line of body) {
        const id = /^ {2,4}((?:i|mi)-[0-9a-f]+|\d{12})\b/.exec(line)?.[1];
        if (!id || /^ {2,4}\S+ \S+ \(\d+\)$/.test(line)) continue;
        expect([id, seen.get(id)]).toEqual([id, undefined]);
        seen.set(id, heading);
      }
    }
    expect(seen.size).toBeGreaterThan(17);
  });
});

describe('the width', () => {
  it.each([80, 100, 200])(
    'at %i columns every line fits, but for one unbreakable unit on its own line',
    (width) => {
      for (const line of reports.get(width)!) {
        if (line.length <= width) continue;
        expect(wrapUnits(line.trim())).toEqual([line.trim()]);
      }
    },
  );

  it('in colour, the visible text fits the same width', async () => {
    // Prepare
    let out = '';
    await main(['node', 'ssm-audit', 'scan', '--snapshot', DEMO, '--width', '80'], {
      out: (text) => (out += text),
      err: () => undefined,
      isTTY: true,
    });
    // Assess
    expect(out).toMatch(/\u001b\[/);
    const visible = out.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
    expect(visible).toEqual(reports.get(80));
  });

  it('the header line fits 80 columns', () => {
    expect(reports.get(80)![0]!.length).toBeLessThanOrEqual(80);
  });

  it.each([80, 200])('at %i columns no id, ARN or command is broken across lines', (width) => {
    const lines = reports.get(width)!;
    const words = new Set(lines.flatMap((l) => l.split(/\s+/)));
    const text = lines.join('\n');
    for (const id of new Set(findings.map((f) => f.resourceId))) {
      if (!text.includes(id.slice(0, 6))) continue;
      // Every id that appears appears whole.
      for (const match of text.matchAll(new RegExp(`${id.slice(0, 6)}[^\\s]*`, 'g'))) {
        expect(
          findings.some(
            (f) =>
              match[0].startsWith(f.resourceId) ||
              f.message.includes(match[0]) ||
              f.remediation.includes(match[0]),
          ),
        ).toBe(true);
      }
    }
    for (const word of words) {
      if (!word.startsWith('arn:')) continue;
      expect(findings.some((f) => f.remediation.includes(word) || f.message.includes(word))).toBe(true);
    }
    // Every `aws …` command of a remediation shown is on one line.
    for (const f of findings) {
      if (f.status === 'PASS') continue;
      for (const unit of wrapUnits(f.remediation).filter((u) => u.startsWith('aws '))) {
        if (text.includes(unit.split(' ').slice(0, 3).join(' ')) && text.replace(/\s+/g, ' ').includes(unit))
          expect(lines.some((l) => l.includes(unit))).toBe(true);
      }
    }
  });
});

describe('wrapUnits', () => {
  it.each([
    {
      given:
        'aws ssm send-command --document-name AWS-UpdateSSMAgent --instance-ids i-0f0b11f42e3a34e52 (or update the agent)',
      expected: [
        'aws ssm send-command --document-name AWS-UpdateSSMAgent --instance-ids i-0f0b11f42e3a34e52',
        '(or',
        'update',
        'the',
        'agent)',
      ],
    },
    {
      given:
        'Either aws iam attach-role-policy --role-name r --policy-arn arn:aws:iam::aws:policy/X, or remove it',
      expected: [
        'Either',
        'aws iam attach-role-policy --role-name r --policy-arn arn:aws:iam::aws:policy/X,',
        'or',
        'remove',
        'it',
      ],
    },
    { given: 'aws a b && aws c d', expected: ['aws a b &&', 'aws c d'] },
    { given: 'the aws CLI', expected: ['the', 'aws', 'CLI'] },
  ])('$given', ({ given, expected }) => {
    expect(wrapUnits(given)).toEqual(expected);
  });
});
