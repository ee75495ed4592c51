import {
  BatchImportFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../scripts/ssm-audit/cli';
import { asffProblems } from './asff-schema';

/** `ssm-audit scan --security-hub`: the CLI run's own opt-in import (Security Hub mocked, real request shapes). */

const hub = mockClient(SecurityHubClient);
const saved = { ...process.env };
beforeEach(() => {
  hub.reset();
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  });
});
afterEach(() => {
  process.env = { ...saved };
});
afterAll(() => hub.restore());

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTTY: false,
    errIsTTY: false,
  });
  return { code, out, err };
}

const SNAPSHOT = 'test/fixtures/demo/demo-fleet.json';
const sent = () =>
  hub
    .commandCalls(BatchImportFindingsCommand)
    .flatMap((c) => (c.args[0].input.Findings ?? []) as AwsSecurityFinding[]);

it('imports every finding of the scan as ASFF, in batches of at most 100, and says so on stderr', async () => {
  hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: unknown[] }) => ({
    SuccessCount: input.Findings.length,
    FailedCount: 0,
    FailedFindings: [],
  }));
  const { code, out, err } = await run([
    'scan',
    '--snapshot',
    SNAPSHOT,
    '--security-hub',
    '--format',
    'json',
    '--fail-on',
    'none',
  ]);
  expect(code).toBe(0);
  const findings = JSON.parse(out) as unknown[];
  expect(sent()).toHaveLength(findings.length);
  expect(
    hub.commandCalls(BatchImportFindingsCommand).every((c) => (c.args[0].input.Findings ?? []).length <= 100),
  ).toBe(true);
  for (const f of sent().slice(0, 200)) expect(asffProblems(f)).toEqual([]);
  expect(new Set(sent().map((f) => f.ProductArn))).toEqual(
    new Set(['arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default']),
  );
  expect(err).toContain(
    `Security Hub (eu-west-1): imported ${findings.length} of ${findings.length} findings`,
  );
});

it('findings Security Hub rejects are named on stderr and the run exits 2', async () => {
  hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: { Id: string }[] }) => ({
    SuccessCount: input.Findings.length - 1,
    FailedCount: 1,
    FailedFindings: [{ Id: input.Findings[0]!.Id, ErrorCode: 'InvalidInput', ErrorMessage: 'bad finding' }],
  }));
  const { code, err } = await run([
    'scan',
    '--snapshot',
    SNAPSHOT,
    '--security-hub',
    '--format',
    'json',
    '--fail-on',
    'none',
  ]);
  expect(code).toBe(2);
  expect(err).toMatch(/not imported/);
  expect(err).toContain('InvalidInput bad finding');
});
