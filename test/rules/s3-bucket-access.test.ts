import {
  aNetwork,
  anInstance,
  aRole,
  aSnapshot,
  allow,
  deny,
  dhmcSetting,
  instanceInfo,
  policy,
  tierSetting,
  trustFor,
  type InstanceSpec,
  type NetworkSpec,
  type PolicyDoc,
} from '../support/builders';
import type { AuditConfigInput } from '../../shared/config';
import { POLICY_ARNS, regionalSsmBuckets } from '../../shared/knowledge/ssm-requirements';
import { audit, findingOf } from '../support/helpers';

const ID = 'i-0123456789abcdef0';
const ALL = ['ssm', 'ssmmessages', 'ec2messages'] as const;
const bucketArns = (buckets: string[]) => buckets.map((b) => `arn:aws:s3:::${b}/*`);
const EIGHT = regionalSsmBuckets('eu-west-1');
const exactS3 = policy(allow('s3:GetObject', bucketArns(EIGHT)));

interface Row {
  case: string;
  network: NetworkSpec;
  s3Policy?: PolicyDoc;
  profile?: null;
  dhmc?: boolean;
  /** Calls that failed during collection (e.g. ssm:GetServiceSetting). */
  calls?: Record<string, { status: 'denied' | 'error'; error: string }>;
  config?: AuditConfigInput;
  instance?: Partial<InstanceSpec>;
  /** A change to the built snapshot, the way AWS would report the situation. */
  change?: (snapshot: ReturnType<typeof aSnapshot>) => void;
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
  /** Text the remediation must contain. */
  remediation?: string;
}

const endpointOnly: NetworkSpec = { endpoints: ALL, defaultRoute: null, s3Gateway: true };

const rows: Row[] = [
  {
    case: 'endpoint-only instance, the eight regional buckets granted, S3 gateway routed',
    network: endpointOnly,
    s3Policy: exactS3,
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
  },
  {
    case: 'one of the eight buckets missing (patch-baseline-snapshot)',
    network: endpointOnly,
    s3Policy: policy(allow('s3:GetObject', bucketArns(EIGHT.slice(0, 7)))),
    status: 'FAIL',
    reason: 'S3_BUCKET_NOT_GRANTED',
    evidence: { problems: [expect.objectContaining({ bucket: 'patch-baseline-snapshot-eu-west-1' })] },
  },
  {
    case: 'no S3 policy at all',
    network: endpointOnly,
    status: 'FAIL',
    reason: 'S3_BUCKET_NOT_GRANTED',
  },
  {
    case: 'buckets granted through a region wildcard (arn:aws:s3:::aws-ssm-*/*)',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', [
        'arn:aws:s3:::aws-ssm-*/*',
        'arn:aws:s3:::aws-windows-downloads-*/*',
        'arn:aws:s3:::amazon-ssm-*/*',
        'arn:aws:s3:::*-birdwatcher-prod/*',
        'arn:aws:s3:::patch-baseline-snapshot-*/*',
      ]),
    ),
    status: 'WARN',
    reason: 'S3_REGION_WILDCARD',
  },
  {
    case: 'S3 gateway endpoint missing',
    network: { endpoints: ALL, defaultRoute: null },
    s3Policy: exactS3,
    status: 'FAIL',
    reason: 'S3_GATEWAY_ENDPOINT_MISSING',
    // What the role would lack through the endpoint is recorded for the fix plan: nothing here.
    evidence: { role: 'SSMInstanceProfile', ungrantedBuckets: [], deniedBuckets: [] },
  },
  {
    case: 'S3 gateway endpoint missing, and the role grants none of the buckets',
    network: { endpoints: ALL, defaultRoute: null },
    status: 'FAIL',
    reason: 'S3_GATEWAY_ENDPOINT_MISSING',
    evidence: { role: 'SSMInstanceProfile', ungrantedBuckets: EIGHT, deniedBuckets: [] },
  },
  {
    case: 'S3 gateway endpoint routed to another route table than the subnet’s',
    network: endpointOnly,
    s3Policy: exactS3,
    change: (snapshot) => {
      const gateway = snapshot.ec2!.VpcEndpoints!.find((e) => e.VpcEndpointType === 'Gateway')!;
      gateway.RouteTableIds = ['rtb-0public000000001'];
    },
    status: 'FAIL',
    reason: 'S3_GATEWAY_ENDPOINT_NOT_ROUTED',
    remediation:
      'aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-0s3gateway000001 --add-route-table-ids rtb-0app00000000001',
  },
  {
    case: 'SSM through endpoints, no S3 gateway, but a NAT path carries S3 traffic',
    network: { endpoints: ALL },
    s3Policy: exactS3,
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
    evidence: { s3Endpoint: null },
  },
  {
    case: 'SSM through endpoints with a NAT path still needs the bucket grants (seed 002)',
    network: { endpoints: ALL },
    status: 'FAIL',
    reason: 'S3_BUCKET_NOT_GRANTED',
  },
  {
    case: 'S3 gateway endpoint policy that blocks the SSM buckets',
    network: {
      ...endpointOnly,
      s3Gateway: policy({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:*',
        Resource: 'arn:aws:s3:::corp-*/*',
      }),
    },
    s3Policy: exactS3,
    status: 'FAIL',
    reason: 'S3_ENDPOINT_POLICY_BLOCKS',
  },
  {
    case: 'explicit Deny on one bucket',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', bucketArns(EIGHT)),
      deny('s3:GetObject', 'arn:aws:s3:::aws-windows-downloads-eu-west-1/*'),
    ),
    status: 'FAIL',
    reason: 'S3_BUCKET_NOT_GRANTED',
  },
  // --- bucket/* is a set of keys: a grant must cover every key, a Deny on any key matters (issue 10) ---
  {
    case: 'Resource arn:aws:s3:::aws-ssm-eu-west-1/? grants one-character keys only, not every object',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', ['arn:aws:s3:::aws-ssm-eu-west-1/?', ...bucketArns(EIGHT.slice(1))]),
    ),
    status: 'FAIL',
    reason: 'S3_BUCKET_PARTIALLY_GRANTED',
    evidence: { problems: [expect.objectContaining({ bucket: 'aws-ssm-eu-west-1' })] },
  },
  {
    case: 'Deny on aws-ssm-eu-west-1/agent/* under the bucket grants: some objects are denied',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', bucketArns(EIGHT)),
      deny('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*'),
    ),
    status: 'FAIL',
    reason: 'S3_BUCKET_PARTIALLY_GRANTED',
    evidence: {
      problems: [
        expect.objectContaining({
          bucket: 'aws-ssm-eu-west-1',
          statements: expect.arrayContaining([expect.stringContaining('Deny inline:SSMInstanceProfile/s3')]),
        }),
      ],
    },
  },
  {
    case: 'Deny on aws-ssm-eu-west-1/agent/* under Allow s3:* on *: some objects are denied',
    network: endpointOnly,
    s3Policy: policy(allow('s3:*'), deny('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*')),
    status: 'FAIL',
    reason: 'S3_BUCKET_PARTIALLY_GRANTED',
  },
  {
    case: 'a Deny on another bucket does not touch the SSM buckets',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', bucketArns(EIGHT)),
      deny('s3:GetObject', 'arn:aws:s3:::secrets/*'),
    ),
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
  },
  {
    case: 'grant under a Condition the audit cannot decide (aws:SourceVpce) is a WARN',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', bucketArns(EIGHT), {
        Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-0s3gateway000001' } },
      }),
    ),
    status: 'WARN',
    reason: 'S3_CONDITIONAL_GRANT',
  },
  {
    case: 'grant under a Condition the audit decides (aws:PrincipalAccount = this account) passes',
    network: endpointOnly,
    s3Policy: policy(
      allow('s3:GetObject', bucketArns(EIGHT), {
        Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
      }),
    ),
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
  },
  {
    case: 'no profile and GetServiceSetting failed: the role in use is unknown → ERROR, not FAIL',
    network: endpointOnly,
    s3Policy: exactS3,
    profile: null,
    calls: { 'ssm:GetServiceSetting': { status: 'error', error: 'ThrottlingException' } },
    status: 'ERROR',
    reason: 'API_CALL_FAILED',
    evidence: { call: 'ssm:GetServiceSetting' },
  },
  {
    case: 'no profile and GetServiceSetting denied → ERROR naming the permission',
    network: endpointOnly,
    s3Policy: exactS3,
    profile: null,
    calls: { 'ssm:GetServiceSetting': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'ERROR',
    reason: 'API_CALL_DENIED',
  },
  // --- The S3 gateway endpoint's policy, for the agent's role (Principal) and every object ---
  {
    case: 'endpoint policy that allows only another account’s role: it does not apply to the agent',
    network: {
      ...endpointOnly,
      s3Gateway: policy({
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::999999999999:role/Other' },
        Action: 's3:GetObject',
        Resource: '*',
      }),
    },
    s3Policy: exactS3,
    status: 'FAIL',
    reason: 'S3_ENDPOINT_POLICY_BLOCKS',
  },
  {
    case: 'endpoint policy that denies aws-ssm-eu-west-1/agent/* to everyone blocks some objects, naming the statement',
    network: {
      ...endpointOnly,
      s3Gateway: policy(
        { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
        {
          Sid: 'NoAgentDownloads',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*',
        },
      ),
    },
    s3Policy: exactS3,
    status: 'FAIL',
    reason: 'S3_ENDPOINT_POLICY_BLOCKS',
    evidence: {
      problems: [
        expect.objectContaining({
          code: 'S3_ENDPOINT_POLICY_BLOCKS',
          bucket: 'aws-ssm-eu-west-1',
          statements: [
            expect.stringContaining('Allow vpce-0s3gateway000001 policy Statement[0]'),
            expect.stringContaining('Deny vpce-0s3gateway000001 policy Statement[1] (NoAgentDownloads)'),
          ],
        }),
      ],
    },
  },
  {
    case: 'endpoint policy that allows the buckets only under a Condition the audit cannot decide → WARN',
    network: {
      ...endpointOnly,
      s3Gateway: policy({
        Sid: 'OnlyFromOurVpc',
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-0a1b2c3d4e5f60001' } },
      }),
    },
    s3Policy: exactS3,
    status: 'WARN',
    reason: 'S3_ENDPOINT_POLICY_CONDITIONAL',
    remediation: 'in the endpoint policy of vpce-0s3gateway000001',
  },
  {
    case: 'endpoint policy that names the agent role and the eight buckets passes',
    network: {
      ...endpointOnly,
      s3Gateway: policy({
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:role/SSMInstanceProfile' },
        Action: 's3:GetObject',
        Resource: bucketArns(EIGHT),
      }),
    },
    s3Policy: exactS3,
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
  },
  {
    case: 'endpoint policy {"AWS": "*"} allowing the eight buckets passes',
    network: {
      ...endpointOnly,
      s3Gateway: policy({
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 's3:GetObject',
        Resource: bucketArns(EIGHT),
      }),
    },
    s3Policy: exactS3,
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
  },
  {
    case: 'instance with a NAT path: the S3 policy is not required',
    network: {},
    status: 'NOT_APPLICABLE',
    reason: 'NOT_ENDPOINT_ONLY',
    // …but what the role would lack behind endpoints is recorded (a fix plan that adds them grants it).
    evidence: { endpointOnly: false, role: 'SSMInstanceProfile', ungrantedBuckets: EIGHT, deniedBuckets: [] },
  },
  {
    case: 'instance with a NAT path whose role already grants the buckets',
    network: {},
    s3Policy: exactS3,
    status: 'NOT_APPLICABLE',
    reason: 'NOT_ENDPOINT_ONLY',
    evidence: { endpointOnly: false, role: 'SSMInstanceProfile', ungrantedBuckets: [], deniedBuckets: [] },
  },
  {
    case: 'DHMC role in use (no profile) carries the S3 policy',
    network: endpointOnly,
    s3Policy: exactS3,
    profile: null,
    dhmc: true,
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
    evidence: { credentialSource: 'dhmc' },
  },
  {
    // DESIGN R3: "The role in use (profile or DHMC) must allow s3:GetObject": with neither there is none.
    case: 'endpoint-only instance with no instance profile and DHMC off: no role in use',
    network: endpointOnly,
    profile: null,
    status: 'FAIL',
    reason: 'NO_ROLE_IN_USE',
  },
  {
    case: 'configured encrypted output bucket without GetEncryptionConfiguration on the bucket root',
    network: {},
    s3Policy: policy(allow(['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::ops-output/*')),
    config: { outputBuckets: [{ name: 'ops-output', encrypted: true }] },
    status: 'FAIL',
    reason: 'S3_OUTPUT_BUCKET_NOT_GRANTED',
    evidence: { problems: [expect.objectContaining({ action: 's3:GetEncryptionConfiguration' })] },
    remediation:
      'granting s3:GetEncryptionConfiguration on arn:aws:s3:::ops-output (output bucket ops-output',
  },
  {
    case: 'stopped instance → NOT_APPLICABLE',
    network: endpointOnly,
    instance: { state: 'stopped' },
    status: 'NOT_APPLICABLE',
    reason: 'INSTANCE_STOPPED',
  },
  {
    case: 'configured output bucket fully granted',
    network: {},
    s3Policy: policy(
      allow(['s3:GetObject', 's3:PutObject', 's3:PutObjectAcl'], 'arn:aws:s3:::ops-output/*'),
      allow('s3:GetEncryptionConfiguration', 'arn:aws:s3:::ops-output'),
    ),
    config: { outputBuckets: [{ name: 'ops-output', encrypted: true, crossAccount: true }] },
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
  },
];

describe('s3-bucket-access', () => {
  it.each(rows)('$case', (row) => {
    // Prepare
    const inline = row.s3Policy ? { s3: row.s3Policy } : undefined;
    const roles = row.dhmc
      ? [
          aRole({
            name: 'AWSSystemsManagerDefaultEC2InstanceManagementRole',
            trust: trustFor('ssm.amazonaws.com'),
            managed: [POLICY_ARNS.dhmcDefault],
            inline,
          }),
        ]
      : [
          aRole({
            name: 'SSMInstanceProfile',
            profiles: ['SSMInstanceProfile'],
            managed: [POLICY_ARNS.core],
            inline,
          }),
        ];
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, profile: row.profile, ...row.instance })],
      ec2: aNetwork(row.network),
      infos: [instanceInfo({ id: ID, agentVersion: '3.2.1297.0' })],
      roles,
      settings: [
        dhmcSetting(row.dhmc ? 'service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole' : null),
        tierSetting('standard'),
      ],
      calls: row.calls,
    });
    row.change?.(snapshot);
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['s3-bucket-access'], config: row.config }),
      's3-bucket-access',
      ID,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: row.status,
      reason: row.reason,
    });
    expect(finding.message).not.toMatch(/\.\.|\(granted by/);
    if (row.evidence) expect(finding.evidence).toMatchObject(row.evidence);
    if (row.remediation) expect(finding.remediation).toContain(row.remediation);
  });
});
