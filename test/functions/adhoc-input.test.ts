import { RULE_IDS } from '../../rules';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { buildSyntheticSnapshot } from '../support/synthetic';
import { fakeAwsFromSnapshot, type FakeAws } from '../support/fake-aws';
import {
  adhocResponse,
  boundFindings,
  handleAdhoc,
  InvalidInputError,
  parseAdhocInput,
} from '../../functions/lib/handlers';
import type { TargetOutcome } from '../../functions/lib/audit-target';
import { createRuntime, type Runtime } from '../../functions/lib/runtime';
import { type Finding, type Status } from '../../shared/model';

/**
 * Issue 9: the ad-hoc payload is validated at the edge (only a JSON object is a request; `{}` is the whole
 * region), echoed values are bounded, and the response always fits Lambda's 6 MB.
 */

const LAMBDA_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const TABLE = 'ssm-readiness-auditor-findings';
const ACCOUNT = '123456789012';
const context = { invokedFunctionArn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:adhoc` };

// The audits' per-status single metrics print EMF at once; keep the test output quiet.
const savedDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
beforeAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});
afterAll(() => {
  if (savedDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = savedDisabled;
});

/** A runtime whose AWS clients, store and alerts must not be reached unless a test allows it. */
function testRuntime(): Runtime & { calls: string[] } {
  const calls: string[] = [];
  const base = createRuntime({ FINDINGS_TABLE: TABLE, AWS_REGION: 'eu-west-1' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  return {
    ...base,
    calls,
    clientsFor(region) {
      calls.push(`clientsFor ${region}`);
      return base.clientsFor(region);
    },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
  };
}

describe('ad-hoc payload', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = fakeAwsFromSnapshot(buildSyntheticSnapshot({ instances: 0 }));
  });
  afterEach(() => fake.restore());

  it.each([
    { case: 'null', payload: null, got: 'got null' },
    { case: 'no payload', payload: undefined, got: 'got nothing' },
    { case: 'an array', payload: [], got: 'got an array' },
    { case: 'an array of ids', payload: ['i-0123456789abcdef0'], got: 'got an array' },
    { case: 'a string', payload: 'i-0123456789abcdef0', got: 'got a string' },
    { case: 'a number', payload: 42, got: 'got a number' },
    { case: 'a boolean', payload: true, got: 'got a boolean' },
  ])('rejects $case, running nothing', async ({ payload, got }) => {
    // Prepare
    const rt = testRuntime();
    // Act
    const promise = handleAdhoc(payload, rt, context);
    // Assess
    await expect(promise).rejects.toBeInstanceOf(InvalidInputError);
    await expect(promise).rejects.toThrow(
      new RegExp(`^invalid input: expected a JSON object .*\\(\\{\\} audits the whole region\\), ${got}$`),
    );
    expect(rt.calls).toEqual([]);
    expect(fake.totalCalls()).toBe(0);
  });

  it('{} is a whole-region request', async () => {
    // Prepare
    const rt = testRuntime();
    // Act
    const result = await handleAdhoc({ dryRun: true }, rt, context);
    // Assess
    expect(parseAdhocInput({})).toEqual({});
    expect(result).toMatchObject({
      region: 'eu-west-1',
      dryRun: true,
      summary: { scope: 'the whole region' },
    });
    expect(rt.calls).toEqual(['clientsFor eu-west-1']);
  });

  it.each([
    {
      case: 'a region that is a host name',
      payload: { region: 'evil.example.com' },
      expected: 'invalid region: must be an AWS region name like eu-west-1',
    },
    {
      case: 'a 100,000-character rule id',
      payload: { ruleIds: ['r'.repeat(100_000)] },
      expected: `invalid ruleIds: unknown rule id ${'r'.repeat(64)}…; valid ids: ${RULE_IDS.join(', ')}`,
    },
    {
      case: '100 unknown rule ids',
      payload: { ruleIds: Array.from({ length: 100 }, (_, i) => `rule-${i}`) },
      expected: `invalid ruleIds: unknown rule ids rule-0, rule-1, rule-2, rule-3, rule-4 and 95 more; valid ids: ${RULE_IDS.join(', ')}`,
    },
    {
      case: 'a rule id with a line break',
      payload: { ruleIds: ['network-path\nFAKE LOG LINE'] },
      expected: `invalid ruleIds: unknown rule id "network-path\\nFAKE LOG LINE"; valid ids: ${RULE_IDS.join(', ')}`,
    },
    {
      case: 'a 100,000-character unknown field',
      payload: { ['f'.repeat(100_000)]: 1 },
      expected: `unknown field ${'f'.repeat(64)}…; expected instanceIds, ruleIds, region, dryRun`,
    },
    {
      case: '50 unknown fields',
      payload: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i])),
      expected:
        'unknown fields f0, f1, f2, f3, f4 and 45 more; expected instanceIds, ruleIds, region, dryRun',
    },
  ])('rejects $case with a bounded one-line message', async ({ payload, expected }) => {
    // Prepare
    const rt = testRuntime();
    // Act / Assess
    await expect(handleAdhoc(payload, rt, context)).rejects.toThrow(new InvalidInputError(expected));
    expect(rt.calls).toEqual([]);
  });
});

/** `count` findings of `status`, each about `bytes` long as JSON. */
function findings(count: number, status: Status, bytes = 500, start = 0): Finding[] {
  return Array.from({ length: count }, (_, i) => ({
    accountId: ACCOUNT,
    region: 'eu-west-1',
    resourceType: 'EC2Instance',
    resourceId: `i-${(start + i).toString(16).padStart(17, '0')}`,
    ruleId: 'network-path',
    status,
    severity: status === 'FAIL' ? 'HIGH' : 'INFORMATIONAL',
    reason: status,
    message: 'm'.repeat(bytes),
    evidence: {},
    remediation: '',
    reference: '',
    evaluatedAt: '2026-11-23T10:00:00.000Z',
  }));
}

const outcomeOf = (list: Finding[]): TargetOutcome => ({
  region: 'eu-west-1',
  scope: 'the whole region',
  accountId: ACCOUNT,
  byStatus: {},
  findings: list,
  apiCalls: 1,
  failedCalls: [],
});

describe('the ad-hoc response fits Lambda’s 6 MB', () => {
  it('keeps every finding, in order, when they fit', () => {
    const all = [...findings(3, 'PASS'), ...findings(2, 'FAIL', 500, 3)];
    expect(boundFindings(all, 10_000)).toEqual({ findings: all, omitted: 0, omittedByStatus: {} });
  });

  it('lists FAIL/ERROR, then WARN, then the rest, until the budget, and counts what it left out', () => {
    // Prepare: ~600 bytes each; room for 10
    const all = [
      ...findings(6, 'PASS', 500, 0),
      ...findings(3, 'WARN', 500, 6),
      ...findings(2, 'ERROR', 500, 9),
      ...findings(4, 'FAIL', 500, 11),
      ...findings(5, 'NOT_APPLICABLE', 500, 15),
    ];
    const size = Buffer.byteLength(JSON.stringify(all[0])) + 1;
    // Act
    const bounded = boundFindings(all, 2 + 10 * size);
    // Assess
    expect(bounded.findings.map((f) => f.status)).toEqual([
      ...Array<Status>(2).fill('ERROR'),
      ...Array<Status>(4).fill('FAIL'),
      ...Array<Status>(3).fill('WARN'),
      'PASS',
    ]);
    expect(bounded.omitted).toBe(10);
    expect(bounded.omittedByStatus).toEqual({ PASS: 5, NOT_APPLICABLE: 5 });
    expect(Buffer.byteLength(JSON.stringify(bounded.findings))).toBeLessThanOrEqual(2 + 10 * size);
  });

  it.each([
    {
      case: 'stored: the findings table and the query',
      input: {},
      rest: [
        `every finding is stored in the findings table ${TABLE}`,
        `ssm-audit findings --table ${TABLE} --scope ${ACCOUNT}/eu-west-1 --status PASS --format json`,
        `aws dynamodb query --table-name ${TABLE} --index-name byScope`,
        `SCOPE#${ACCOUNT}#eu-west-1`,
      ],
    },
    {
      case: 'dryRun: the CLI scan',
      input: { dryRun: true, instanceIds: ['i-0123456789abcdef0'], ruleIds: ['network-path'] },
      rest: [
        'dryRun stored nothing',
        'ssm-audit scan --region eu-west-1 --instance i-0123456789abcdef0 --rule network-path --format json',
      ],
    },
  ])('a truncated response says where the rest is ($case)', ({ input, rest }) => {
    // Prepare: 12 MB of findings
    const all = [...findings(20_000, 'PASS', 500), ...findings(100, 'FAIL', 500, 20_000)];
    // Act
    const response = adhocResponse(outcomeOf(all), input, TABLE);
    // Assess
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(LAMBDA_MAX_RESPONSE_BYTES);
    expect(response.findings.slice(0, 100).every((f) => f.status === 'FAIL')).toBe(true);
    expect(response).toMatchObject({ truncated: true, omittedByStatus: { PASS: expect.any(Number) } });
    expect(response.omittedFindings).toBe(all.length - response.findings.length);
    for (const part of rest) expect(response.rest).toContain(part);
  });

  it('a 2,000-instance region audited ad hoc (dryRun) answers within 6 MB, with the pointer', async () => {
    // Prepare
    const fake = fakeAwsFromSnapshot(buildSyntheticSnapshot({ instances: 2_000 }));
    try {
      const rt = testRuntime();
      // Act
      const response = await handleAdhoc({ dryRun: true }, rt, context);
      // Assess
      const total = response.summary.findings;
      const count = Object.values(total).reduce((a, b) => a + (b ?? 0), 0);
      const bytes = Buffer.byteLength(JSON.stringify(response));
      expect(bytes).toBeLessThan(LAMBDA_MAX_RESPONSE_BYTES);
      expect(response).toMatchObject({ truncated: true, dryRun: true });
      expect(response.findings.length + (response.omittedFindings ?? 0)).toBe(count);
      expect(response.rest).toContain('ssm-audit scan --region eu-west-1 --format json');
      const failing = (total.FAIL ?? 0) + (total.ERROR ?? 0);
      expect(
        response.findings.slice(0, failing).every((f) => f.status === 'FAIL' || f.status === 'ERROR'),
      ).toBe(true);
    } finally {
      fake.restore();
    }
  });
});
