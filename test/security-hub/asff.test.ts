import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import {
  ASFF_LIMITS,
  asffBytes,
  asffId,
  defaultProductArn,
  isArchived,
  toAsff,
  type AsffContext,
} from '../../shared/alerts/asff';
import { STATUSES, type Severity, type Status } from '../../shared/model';
import { asffProblems } from './asff-schema';
import {
  ACCOUNT,
  INSTANCE,
  NODE,
  PREREQS,
  REGION,
  aFinding,
  aStoredFinding,
  demoFleetFindings,
  ruleTitle,
} from './fixtures';

/** ASFF findings (DESIGN §8, issue 13) for Security Hub CSPM's BatchImportFindings. */

const CTX: AsffContext = { partition: 'aws', auditorVersion: '0.1.0', ruleTitle };
const valid = (finding: AwsSecurityFinding) => {
  expect(asffProblems(finding)).toEqual([]);
  return finding;
};

describe('every produced finding is valid ASFF', () => {
  it('the findings of the demo fleet (before and after), stored or not', () => {
    // Prepare
    const findings = demoFleetFindings();
    expect(findings.length).toBeGreaterThan(100);
    // Act
    const asff = findings.flatMap((f) => [
      toAsff(f, CTX),
      toAsff(
        { ...f, version: 2, firstSeenAt: '2026-11-01T00:00:00.000Z', statusChangedAt: f.evaluatedAt },
        CTX,
      ),
    ]);
    // Assess
    const problems = asff.flatMap((f) => asffProblems(f).map((p) => `${f.Id}: ${p}`));
    expect(problems).toEqual([]);
    expect(new Set(asff.map((f) => f.Resources?.[0]?.Type))).toEqual(new Set(['AwsEc2Instance', 'Other']));
    expect(
      asff.every((f) => f.Remediation?.Recommendation?.Url?.startsWith('https://docs.aws.amazon.com/')),
    ).toBe(true);
  });

  it.each(
    STATUSES.flatMap((status) => [INSTANCE, NODE, ACCOUNT].map((resourceId) => ({ status, resourceId }))),
  )('$status on $resourceId', ({ status, resourceId }) => {
    valid(toAsff(aStoredFinding({ status, resourceId }), CTX));
  });
});

describe('mapping', () => {
  it.each<{ status: Status; compliance: string }>([
    { status: 'PASS', compliance: 'PASSED' },
    { status: 'FAIL', compliance: 'FAILED' },
    { status: 'WARN', compliance: 'WARNING' },
    { status: 'ERROR', compliance: 'NOT_AVAILABLE' },
    { status: 'NOT_APPLICABLE', compliance: 'NOT_AVAILABLE' },
  ])('Compliance.Status of $status is $compliance', ({ status, compliance }) => {
    expect(valid(toAsff(aFinding({ status }), CTX)).Compliance).toEqual({ Status: compliance });
  });

  it.each<{ status: Status; severity: Severity; label: string }>([
    { status: 'FAIL', severity: 'CRITICAL', label: 'CRITICAL' },
    { status: 'FAIL', severity: 'HIGH', label: 'HIGH' },
    { status: 'WARN', severity: 'MEDIUM', label: 'MEDIUM' },
    { status: 'ERROR', severity: 'LOW', label: 'LOW' },
    { status: 'FAIL', severity: 'INFORMATIONAL', label: 'INFORMATIONAL' },
    { status: 'PASS', severity: 'HIGH', label: 'INFORMATIONAL' },
    { status: 'NOT_APPLICABLE', severity: 'MEDIUM', label: 'INFORMATIONAL' },
  ])('Severity.Label of a $severity $status is $label', ({ status, severity, label }) => {
    const finding = valid(toAsff(aFinding({ status, severity }), CTX));
    expect(finding.Severity).toEqual({ Label: label, Original: severity });
    // An update's severity and types are read from FindingProviderFields.
    expect(finding.FindingProviderFields).toEqual({ Severity: finding.Severity, Types: finding.Types });
  });

  it('an EC2 instance is an AwsEc2Instance by its ARN', () => {
    expect(toAsff(aFinding({ resourceId: INSTANCE }), CTX).Resources).toEqual([
      {
        Type: 'AwsEc2Instance',
        Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
        Partition: 'aws',
        Region: REGION,
      },
    ]);
  });

  it('a hybrid node and the account are Other, with stable ARN-like ids', () => {
    expect(toAsff(aFinding({ resourceId: NODE, ruleId: 'hybrid-service-role' }), CTX).Resources).toEqual([
      {
        Type: 'Other',
        Id: `arn:aws:ssm:${REGION}:${ACCOUNT}:managed-instance/${NODE}`,
        Partition: 'aws',
        Region: REGION,
        Details: { Other: { resourceType: 'ManagedInstance', resourceId: NODE } },
      },
    ]);
    expect(
      toAsff(aFinding({ resourceId: ACCOUNT, ruleId: 'activations' }), CTX).Resources?.[0],
    ).toMatchObject({
      Type: 'Other',
      Id: `AWS::::Account:${ACCOUNT}`,
      Details: { Other: { resourceType: 'Account', resourceId: ACCOUNT } },
    });
  });

  it('the required and identifying fields', () => {
    const finding = valid(toAsff(aFinding({ ruleId: 'network-path' }), CTX));
    expect(finding).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: `ssm-readiness/${ACCOUNT}/${REGION}/${INSTANCE}/network-path`,
      ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`,
      GeneratorId: 'ssm-readiness-auditor/network-path',
      AwsAccountId: ACCOUNT,
      Region: REGION,
      Types: ['Software and Configuration Checks/AWS Security Best Practices'],
      Title: 'Network path to the Systems Manager endpoints (HTTPS 443) (NO_ROUTE_TO_SSM_ENDPOINTS)',
      Description: `${INSTANCE} has no route to the ssm, ssmmessages and ec2messages endpoints.`,
      Remediation: {
        Recommendation: {
          Text: 'aws ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --service-name com.amazonaws.eu-west-1.ssm ...',
          Url: PREREQS,
        },
      },
      RecordState: 'ACTIVE',
    });
  });

  it('ProductFields: rule, reason, auditor version and status as strings', () => {
    const finding = valid(
      toAsff(aFinding({ status: 'WARN', severity: 'MEDIUM', reason: 'TIER_NEAR_LIMIT' }), CTX),
    );
    expect(finding.ProductFields).toEqual({
      'ssm-readiness/ruleId': 'network-path',
      'ssm-readiness/reason': 'TIER_NEAR_LIMIT',
      'ssm-readiness/status': 'WARN',
      'ssm-readiness/severity': 'MEDIUM',
      'ssm-readiness/resourceType': 'EC2Instance',
      'ssm-readiness/resourceId': INSTANCE,
      'ssm-readiness/auditorVersion': '0.1.0',
      'ssm-readiness/evaluatedAt': '2026-11-23T10:00:00.000Z',
    });
  });

  it('another partition: the ARNs and the default product follow it', () => {
    const finding = valid(toAsff(aFinding({ region: 'cn-north-1' }), { ...CTX, partition: 'aws-cn' }));
    expect(finding.ProductArn).toBe(
      `arn:aws-cn:securityhub:cn-north-1:${ACCOUNT}:product/${ACCOUNT}/default`,
    );
    expect(finding.Resources?.[0]).toMatchObject({
      Id: `arn:aws-cn:ec2:cn-north-1:${ACCOUNT}:instance/${INSTANCE}`,
      Partition: 'aws-cn',
    });
    expect(defaultProductArn('aws-us-gov', 'us-gov-west-1', ACCOUNT)).toBe(
      `arn:aws-us-gov:securityhub:us-gov-west-1:${ACCOUNT}:product/${ACCOUNT}/default`,
    );
  });

  it('a product ARN given by the caller is used as it is', () => {
    const productArn = `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`;
    expect(toAsff(aFinding({ region: 'us-east-1' }), { ...CTX, productArn }).ProductArn).toBe(productArn);
  });

  it('without a rule title, the rule id names the finding', () => {
    expect(valid(toAsff(aFinding(), { partition: 'aws', auditorVersion: '1.2.3' })).Title).toBe(
      'SSM readiness: network-path (NO_ROUTE_TO_SSM_ENDPOINTS)',
    );
  });

  it('a reference that is not a URL is left out of the recommendation', () => {
    const finding = valid(toAsff(aFinding({ reference: 'see the prerequisites' }), CTX));
    expect(finding.Remediation?.Recommendation).toEqual({ Text: expect.any(String) });
  });
});

describe('Id', () => {
  it('is stable for one (account, region, resource, rule) whatever the status, time or version', () => {
    const ids = new Set(
      [
        aFinding(),
        aFinding({ status: 'PASS', evaluatedAt: '2026-12-01T00:00:00.000Z' }),
        aStoredFinding({ version: 9, closedAt: '2026-12-02T00:00:00.000Z' }),
      ].map((f) => toAsff(f, CTX).Id),
    );
    expect(ids.size).toBe(1);
  });

  it('differs when any of the four differs', () => {
    const ids = [
      aFinding(),
      aFinding({ accountId: '210987654321' }),
      aFinding({ region: 'us-east-1' }),
      aFinding({ resourceId: 'i-0000000000000000a' }),
      aFinding({ ruleId: 'instance-permissions' }),
    ].map((f) => toAsff(f, CTX).Id);
    expect(new Set(ids).size).toBe(5);
  });

  it('stays within 512 characters and unique for an overlong resource id', () => {
    const a = asffId({ accountId: ACCOUNT, region: REGION, resourceId: 'x'.repeat(600), ruleId: 'r' });
    const b = asffId({ accountId: ACCOUNT, region: REGION, resourceId: 'x'.repeat(601), ruleId: 'r' });
    expect(a.length).toBeLessThanOrEqual(ASFF_LIMITS.id);
    expect(b.length).toBeLessThanOrEqual(ASFF_LIMITS.id);
    expect(a).not.toBe(b);
  });
});

describe('timestamps from the findings table', () => {
  it('CreatedAt/FirstObservedAt = first seen, UpdatedAt = latest change, LastObservedAt = last evaluation', () => {
    const finding = valid(toAsff(aStoredFinding(), CTX));
    expect(finding).toMatchObject({
      CreatedAt: '2026-11-01T08:00:00.000Z',
      FirstObservedAt: '2026-11-01T08:00:00.000Z',
      UpdatedAt: '2026-11-23T10:00:00.000Z',
      LastObservedAt: '2026-11-23T10:00:00.000Z',
    });
  });

  it('a closed finding is updated at its closing time; lastSeenAt is the last observation', () => {
    const finding = valid(
      toAsff(
        aStoredFinding({
          lastSeenAt: '2026-11-24T10:00:00.000Z',
          closedAt: '2026-11-25T10:00:00.000Z',
          closeReason: 'TERMINATED',
        }),
        CTX,
      ),
    );
    expect(finding.UpdatedAt).toBe('2026-11-25T10:00:00.000Z');
    expect(finding.LastObservedAt).toBe('2026-11-24T10:00:00.000Z');
    expect(finding.ProductFields?.['ssm-readiness/closeReason']).toBe('TERMINATED');
  });

  it('a scan finding (no bookkeeping) is created and updated at its evaluation; other offsets are normalized to UTC', () => {
    const finding = valid(toAsff(aFinding({ evaluatedAt: '2026-11-23T12:00:00+02:00' }), CTX));
    expect([finding.CreatedAt, finding.UpdatedAt, finding.FirstObservedAt, finding.LastObservedAt]).toEqual(
      Array(4).fill('2026-11-23T10:00:00.000Z'),
    );
  });
});

describe('RecordState: archive on resolve, close and suppress; ACTIVE again on regression', () => {
  const SUPPRESSION = {
    id: 'sup-1',
    reason: 'Elastic Disaster Recovery replication server',
    owner: 'platform-team',
    expiresAt: '2027-02-01T00:00:00.000Z',
  };
  it.each<{ case: string; finding: ReturnType<typeof aFinding>; state: string }>([
    { case: 'a failure', finding: aStoredFinding({ status: 'FAIL' }), state: 'ACTIVE' },
    { case: 'a warning', finding: aStoredFinding({ status: 'WARN', severity: 'MEDIUM' }), state: 'ACTIVE' },
    { case: 'an error', finding: aStoredFinding({ status: 'ERROR' }), state: 'ACTIVE' },
    {
      case: 'resolved (FAIL → PASS)',
      finding: aStoredFinding({ status: 'PASS', previousStatus: 'FAIL' }),
      state: 'ARCHIVED',
    },
    { case: 'not applicable', finding: aStoredFinding({ status: 'NOT_APPLICABLE' }), state: 'ARCHIVED' },
    {
      case: 'closed (terminated) while failing',
      finding: aStoredFinding({ closedAt: '2026-11-24T00:00:00.000Z', closeReason: 'TERMINATED' }),
      state: 'ARCHIVED',
    },
    {
      case: 'suppressed while failing',
      finding: aStoredFinding({ suppressed: SUPPRESSION }),
      state: 'ARCHIVED',
    },
    {
      case: 'regression (PASS → FAIL) after being archived',
      finding: aStoredFinding({ status: 'FAIL', previousStatus: 'PASS', version: 4 }),
      state: 'ACTIVE',
    },
  ])('$case → $state', ({ finding, state }) => {
    const asff = valid(toAsff(finding, CTX));
    expect(asff.RecordState).toBe(state);
    expect(isArchived(finding)).toBe(state === 'ARCHIVED');
  });

  it('a suppressed finding keeps its real compliance status and says who suppressed it until when', () => {
    const asff = valid(toAsff(aStoredFinding({ suppressed: SUPPRESSION }), CTX));
    expect(asff.Compliance?.Status).toBe('FAILED');
    expect(asff.Description).toContain(
      'Suppressed by platform-team until 2027-02-01T00:00:00.000Z: Elastic Disaster Recovery replication server.',
    );
    expect(asff.ProductFields).toMatchObject({
      'ssm-readiness/suppressionId': 'sup-1',
      'ssm-readiness/suppressionOwner': 'platform-team',
      'ssm-readiness/suppressionExpiresAt': '2027-02-01T00:00:00.000Z',
    });
  });

  it('the caller can force the record state', () => {
    expect(toAsff(aStoredFinding(), { ...CTX, recordState: 'ARCHIVED' }).RecordState).toBe('ARCHIVED');
  });
});

describe("the customer's fields and the limits", () => {
  it('never sets Workflow, WorkflowState, Note, UserDefinedFields or VerificationState', () => {
    for (const finding of [aFinding(), aStoredFinding({ closedAt: '2026-11-24T00:00:00.000Z' })]) {
      const asff = toAsff(finding, CTX);
      for (const field of ['Workflow', 'WorkflowState', 'Note', 'UserDefinedFields', 'VerificationState'])
        expect(asff).not.toHaveProperty(field);
    }
  });

  it('long texts are cut to the limits at a character, never inside a surrogate pair', () => {
    // Prepare: 🔒 is two UTF-16 code units.
    const long = '🔒'.repeat(3000);
    // Act
    const finding = valid(
      toAsff(
        aFinding({ message: long, remediation: long, reason: 'R'.repeat(400), evidence: { blob: long } }),
        CTX,
      ),
    );
    // Assess
    expect(Array.from(finding.Description!)).toHaveLength(ASFF_LIMITS.description);
    expect(Array.from(finding.Remediation!.Recommendation!.Text!)).toHaveLength(
      ASFF_LIMITS.recommendationText,
    );
    expect(Array.from(finding.Title!).length).toBeLessThanOrEqual(ASFF_LIMITS.title);
    expect(finding.Description!.endsWith('🔒…')).toBe(true);
    expect(asffBytes(finding)).toBeLessThan(ASFF_LIMITS.findingBytes);
  });
});

describe('the schema itself refuses what the documentation forbids', () => {
  const good = () => ({ ...toAsff(aStoredFinding(), CTX) }) as Record<string, unknown>;
  it.each<{ case: string; change: (f: Record<string, unknown>) => void; path: string }>([
    { case: 'no Title', change: (f) => delete f.Title, path: 'Title' },
    { case: 'no Resources', change: (f) => delete f.Resources, path: 'Resources' },
    { case: 'Id over 512', change: (f) => (f.Id = 'x'.repeat(513)), path: 'Id' },
    { case: 'Description over 1024', change: (f) => (f.Description = 'x'.repeat(1025)), path: 'Description' },
    { case: 'blank Title', change: (f) => (f.Title = '   '), path: 'Title' },
    { case: 'date without time', change: (f) => (f.UpdatedAt = '2026-11-23'), path: 'UpdatedAt' },
    { case: 'impossible date', change: (f) => (f.CreatedAt = '2026-02-30T10:00:00Z'), path: 'CreatedAt' },
    {
      case: 'offset beyond 18:00',
      change: (f) => (f.CreatedAt = '2026-11-23T10:00:00+19:00'),
      path: 'CreatedAt',
    },
    { case: 'unknown severity', change: (f) => (f.Severity = { Label: 'SEVERE' }), path: 'Severity.Label' },
    {
      case: 'unknown compliance status',
      change: (f) => (f.Compliance = { Status: 'ERROR' }),
      path: 'Compliance.Status',
    },
    { case: 'a type outside the taxonomy', change: (f) => (f.Types = ['Misc/Stuff']), path: 'Types.0' },
    { case: 'Workflow set', change: (f) => (f.Workflow = { Status: 'NEW' }), path: '(root)' },
    {
      case: 'a non-string ProductFields value',
      change: (f) => (f.ProductFields = { a: 1 }),
      path: 'ProductFields.a',
    },
    {
      case: '51 ProductFields',
      change: (f) =>
        (f.ProductFields = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']))),
      path: 'ProductFields',
    },
  ])('$case', ({ change, path }) => {
    const finding = good();
    expect(asffProblems(finding)).toEqual([]);
    change(finding);
    expect(asffProblems(finding).join('\n')).toContain(`${path}:`);
  });

  it('the documented timestamp formats are accepted', () => {
    for (const t of [
      '2019-01-31T23:00:00Z',
      '2019-01-31T23:00:00.123456789Z',
      '2024-01-04T15:25:10+17:59',
      '2024-01-04T15:25:10-1759',
      '2024-01-04T15:25:10.123456789+17:59',
    ])
      expect(asffProblems({ ...good(), CreatedAt: t })).toEqual([]);
  });
});

it('a built-in exemption is named as such, without its never-reached expiry', () => {
  const asff = toAsff(
    aStoredFinding({
      suppressed: {
        id: 'drs-replication-server',
        reason: 'Elastic Disaster Recovery replication server',
        owner: 'built-in',
        expiresAt: '9999-12-31T23:59:59.999Z',
        builtIn: true,
      },
    }),
    CTX,
  );
  expect(asffProblems(asff)).toEqual([]);
  expect(asff.RecordState).toBe('ARCHIVED');
  expect(asff.Description).toContain(
    'Exempt by the built-in exemption drs-replication-server: Elastic Disaster Recovery replication server.',
  );
  expect(asff.ProductFields).toMatchObject({ 'ssm-readiness/suppressionBuiltIn': 'true' });
  expect(asff.ProductFields).not.toHaveProperty('ssm-readiness/suppressionExpiresAt');
});
