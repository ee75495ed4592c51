import {
  BatchImportFindingsCommand,
  LimitExceededException,
  InvalidAccessException,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { toAsff } from '../../shared/alerts/asff';
import {
  LocalSecurityHubSink,
  SECURITY_HUB_LIMITS,
  SecurityHubImporter,
  SecurityHubSink,
} from '../../shared/alerts/security-hub';
import { asffProblems } from './asff-schema';
import { ACCOUNT, REGION, aStoredFinding } from './fixtures';

/** BatchImportFindings with a mocked Security Hub client: batching, partial failures, throttling. */

const securityHub = mockClient(SecurityHubClient);
afterAll(() => securityHub.restore());
beforeEach(() => securityHub.reset());

const client = () =>
  new SecurityHubClient({ region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const noWait = { sleep: async () => undefined, random: () => 1 };
const importer = (options = {}) =>
  new SecurityHubImporter(new SecurityHubSink(client()), { backoff: noWait, ...options });

const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const findings = (count: number, extra = {}): AwsSecurityFinding[] =>
  Array.from({ length: count }, (_, n) =>
    toAsff(aStoredFinding({ resourceId: iid(n), ...extra }), { partition: 'aws', auditorVersion: '0.1.0' }),
  );

const sent = () =>
  securityHub.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings ?? []);
/** Security Hub accepts every finding (a real-shaped response). */
const acceptAll = () =>
  securityHub.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
    $metadata: { httpStatusCode: 200 },
    FailedCount: 0,
    SuccessCount: input.Findings.length,
    FailedFindings: [],
  }));

describe('batching', () => {
  it('at most 100 findings per call: 250 findings go in 100 + 100 + 50', async () => {
    // Prepare
    acceptAll();
    const all = findings(250);
    // Act
    const outcome = await importer().import(all);
    // Assess
    expect(sent().map((b) => b.length)).toEqual([100, 100, 50]);
    expect(outcome.requests).toBe(3);
    expect(outcome.failed).toEqual([]);
    expect(outcome.imported).toEqual(new Set(all.map((f) => f.Id)));
    expect(
      sent()
        .flat()
        .map((f) => f.Id),
    ).toEqual(all.map((f) => f.Id));
  });

  it('by size: a batch closes before its request body would pass the byte limit', async () => {
    // Prepare: findings of about 1 KB, a limit of 5 KB per request.
    acceptAll();
    const all = findings(12);
    const size = Buffer.byteLength(JSON.stringify(all[0]));
    const maxRequestBytes = 5 * 1024;
    // Act
    const outcome = await importer({ maxRequestBytes }).import(all);
    // Assess
    const bodies = sent().map((batch) => Buffer.byteLength(JSON.stringify({ Findings: batch })));
    expect(Math.max(...bodies)).toBeLessThanOrEqual(maxRequestBytes);
    expect(sent().length).toBeGreaterThan(1);
    expect(sent()[0]!.length).toBe(Math.floor((maxRequestBytes - 15) / (size + 1)));
    expect(outcome.imported.size).toBe(12);
  });

  it('the documented limits: 100 findings, 240 KB per finding, 6 MB per request', () => {
    expect(SECURITY_HUB_LIMITS).toEqual({
      maxFindingsPerRequest: 100,
      maxFindingBytes: 240 * 1024,
      maxRequestBytes: 6 * 1024 * 1024,
    });
  });

  it('a finding over 240 KB is reported failed, never sent; the others go', async () => {
    acceptAll();
    const [small, big] = findings(2);
    const huge = { ...big!, ProductFields: { blob: 'x'.repeat(250 * 1024) } };
    const outcome = await importer().import([small!, huge]);
    expect(sent()).toEqual([[small]]);
    expect(outcome.imported).toEqual(new Set([small!.Id]));
    expect(outcome.failed).toEqual([
      {
        Id: huge.Id,
        ErrorCode: 'FindingTooLarge',
        ErrorMessage: expect.stringContaining('245760 bytes per finding'),
      },
    ]);
  });

  it('one finding per Id: the last state given is the one sent', async () => {
    acceptAll();
    const [open] = findings(1);
    const [archived] = findings(1, { status: 'PASS' });
    await importer().import([open!, archived!]);
    expect(sent()).toEqual([[archived]]);
    expect(archived!.RecordState).toBe('ARCHIVED');
  });

  it('nothing to import: no call', async () => {
    expect(await importer().import([])).toEqual({ imported: new Set(), failed: [], requests: 0 });
    expect(sent()).toEqual([]);
  });
});

describe('the request', () => {
  it('is BatchImportFindings with valid ASFF findings of the default product, and no Workflow', async () => {
    acceptAll();
    await importer().import(findings(3));
    const [batch] = sent();
    expect(batch).toHaveLength(3);
    for (const finding of batch!) {
      expect(asffProblems(finding)).toEqual([]);
      expect(finding.ProductArn).toBe(`arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`);
      expect(finding).not.toHaveProperty('Workflow');
    }
  });
});

describe('partial failures', () => {
  it('FailedFindings are reported per Id, the rest of the batch and the other batches are imported', async () => {
    // Prepare: the first call rejects two findings, the second accepts all.
    const all = findings(150);
    securityHub
      .on(BatchImportFindingsCommand)
      .resolvesOnce({
        FailedCount: 2,
        SuccessCount: 98,
        FailedFindings: [
          {
            Id: all[3]!.Id,
            ErrorCode: 'InvalidInput',
            ErrorMessage: 'Finding does not adhere to Amazon Security Finding Format.',
          },
          {
            Id: all[42]!.Id,
            ErrorCode: 'FindingSizeExceeded',
            ErrorMessage: 'Finding size exceeded 240 KB.',
          },
        ],
      })
      .resolves({ FailedCount: 0, SuccessCount: 50, FailedFindings: [] });
    // Act
    const outcome = await importer().import(all);
    // Assess
    expect(outcome.failed).toEqual([
      {
        Id: all[3]!.Id,
        ErrorCode: 'InvalidInput',
        ErrorMessage: 'Finding does not adhere to Amazon Security Finding Format.',
      },
      { Id: all[42]!.Id, ErrorCode: 'FindingSizeExceeded', ErrorMessage: 'Finding size exceeded 240 KB.' },
    ]);
    expect(outcome.imported.size).toBe(148);
    expect(outcome.imported.has(all[3]!.Id!)).toBe(false);
    expect(outcome.imported.has(all[149]!.Id!)).toBe(true);
  });

  it('a failure count the list does not explain leaves the unnamed findings failed (to be sent again)', async () => {
    const all = findings(3);
    securityHub.on(BatchImportFindingsCommand).resolves({
      FailedCount: 2,
      SuccessCount: 1,
      FailedFindings: [{ Id: all[0]!.Id, ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }],
    });
    const outcome = await importer().import(all);
    expect(outcome.imported.size).toBe(0);
    expect(outcome.failed.map((f) => f.ErrorCode)).toEqual([
      'InvalidInput',
      'Unacknowledged',
      'Unacknowledged',
    ]);
  });

  it('a request that fails as a whole fails its findings only; the next batch still goes', async () => {
    const all = findings(101);
    securityHub
      .on(BatchImportFindingsCommand)
      .rejectsOnce(
        new InvalidAccessException({
          $metadata: {},
          message: 'Account 123456789012 is not subscribed to AWS Security Hub',
        }),
      )
      .resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
    const outcome = await importer().import(all);
    expect(outcome.failed).toHaveLength(100);
    expect(outcome.failed[0]).toEqual({
      Id: all[0]!.Id,
      ErrorCode: 'InvalidAccessException',
      ErrorMessage: 'Account 123456789012 is not subscribed to AWS Security Hub',
    });
    expect(outcome.imported).toEqual(new Set([all[100]!.Id]));
    expect(sent()).toHaveLength(2);
  });
});

describe('throttling', () => {
  const throttled = () =>
    new LimitExceededException({ $metadata: { httpStatusCode: 429 }, message: 'Rate exceeded' });

  it('LimitExceededException is retried with backoff, then the batch is imported', async () => {
    // Prepare
    const delays: number[] = [];
    securityHub
      .on(BatchImportFindingsCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ FailedCount: 0, SuccessCount: 5, FailedFindings: [] });
    // Act
    const outcome = await importer({
      backoff: { sleep: async (ms: number) => void delays.push(ms), random: () => 1, baseDelayMs: 100 },
    }).import(findings(5));
    // Assess
    expect(sent()).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
    expect(outcome.imported.size).toBe(5);
    expect(outcome.failed).toEqual([]);
  });

  it('a throttle that outlasts the retries fails the batch with the real error name', async () => {
    securityHub.on(BatchImportFindingsCommand).rejects(throttled());
    const outcome = await importer({ backoff: { ...noWait, retries: 2 } }).import(findings(2));
    expect(sent()).toHaveLength(3);
    expect(outcome.failed.map((f) => [f.ErrorCode, f.ErrorMessage])).toEqual([
      ['LimitExceededException', 'Rate exceeded'],
      ['LimitExceededException', 'Rate exceeded'],
    ]);
  });

  it('an access denial is not retried', async () => {
    securityHub
      .on(BatchImportFindingsCommand)
      .rejects(new InvalidAccessException({ $metadata: {}, message: 'no' }));
    await importer().import(findings(1));
    expect(sent()).toHaveLength(1);
  });
});

describe('LocalSecurityHubSink', () => {
  it('records (and prints) the batches that would be sent', async () => {
    const printed: number[] = [];
    const sink = new LocalSecurityHubSink((batch) => printed.push(batch.length));
    const all = findings(120);
    const outcome = await new SecurityHubImporter(sink).import(all);
    expect(sink.batches.map((b) => b.length)).toEqual([100, 20]);
    expect(sink.findings.map((f) => f.Id)).toEqual(all.map((f) => f.Id));
    expect(printed).toEqual([100, 20]);
    expect(outcome.imported.size).toBe(120);
  });
});
