import { toAsff } from '../../shared/alerts/asff';
import { OCSF_VERSION, toOcsf, type OcsfContext } from '../../shared/alerts/ocsf';
import { STATUSES, type Severity, type Status } from '../../shared/model';
import { ocsfProblems } from './ocsf-schema';
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

/** OCSF 1.6.0 Compliance Finding events (issue 13 item 2). */

const CTX: OcsfContext = { partition: 'aws', auditorVersion: '0.1.0', ruleTitle };
const valid = <T>(event: T) => {
  expect(ocsfProblems(event)).toEqual([]);
  return event;
};

it('every finding of the demo fleet is a valid Compliance Finding', () => {
  const events = demoFleetFindings().map((f) => toOcsf(f, CTX));
  expect(events.length).toBeGreaterThan(100);
  expect(events.flatMap((e) => ocsfProblems(e).map((p) => `${e.finding_info.uid}: ${p}`))).toEqual([]);
});

it.each(
  STATUSES.flatMap((status) => [INSTANCE, NODE, ACCOUNT].map((resourceId) => ({ status, resourceId }))),
)('$status on $resourceId is valid', ({ status, resourceId }) => {
  valid(toOcsf(aStoredFinding({ status, resourceId }), CTX));
});

it('the class, the cloud, the metadata and the finding info', () => {
  const event = valid(toOcsf(aStoredFinding(), CTX));
  expect(event).toMatchObject({
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2003,
    class_name: 'Compliance Finding',
    activity_id: 2,
    activity_name: 'Update',
    type_uid: 200302,
    type_name: 'Compliance Finding: Update',
    severity_id: 4,
    severity: 'High',
    status_id: 1,
    status: 'New',
    time: Date.parse('2026-11-23T10:00:00.000Z'),
    cloud: {
      provider: 'AWS',
      region: REGION,
      cloud_partition: 'aws',
      account: { uid: ACCOUNT, type_id: 10, type: 'AWS Account' },
    },
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'SSM Readiness Auditor', vendor_name: 'ssm-readiness-auditor', version: '0.1.0' },
      profiles: ['cloud'],
    },
    finding_info: {
      uid: `ssm-readiness/${ACCOUNT}/${REGION}/${INSTANCE}/network-path`,
      title: 'Network path to the Systems Manager endpoints (HTTPS 443) (NO_ROUTE_TO_SSM_ENDPOINTS)',
      desc: `${INSTANCE} has no route to the ssm, ssmmessages and ec2messages endpoints.`,
      types: ['Software and Configuration Checks/AWS Security Best Practices'],
      created_time: Date.parse('2026-11-01T08:00:00.000Z'),
      first_seen_time: Date.parse('2026-11-01T08:00:00.000Z'),
      last_seen_time: Date.parse('2026-11-23T10:00:00.000Z'),
      modified_time: Date.parse('2026-11-23T10:00:00.000Z'),
      analytic: { uid: 'network-path', type_id: 1, type: 'Rule' },
    },
    compliance: {
      control: 'network-path',
      status_id: 3,
      status: 'Fail',
      status_code: 'FAIL',
      status_details: [
        'NO_ROUTE_TO_SSM_ENDPOINTS',
        `${INSTANCE} has no route to the ssm, ssmmessages and ec2messages endpoints.`,
      ],
    },
    remediation: {
      desc: 'aws ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --service-name com.amazonaws.eu-west-1.ssm ...',
      references: [PREREQS],
    },
  });
});

it('finding_info.uid is the Security Hub Id: one identity in both formats', () => {
  const f = aStoredFinding();
  expect(toOcsf(f, CTX).finding_info.uid).toBe(toAsff(f, CTX).Id);
});

it.each([
  {
    resourceId: INSTANCE,
    type: 'AWS::EC2::Instance',
    alt: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
  },
  {
    resourceId: NODE,
    type: 'AWS::SSM::ManagedInstance',
    alt: `arn:aws:ssm:${REGION}:${ACCOUNT}:managed-instance/${NODE}`,
  },
  { resourceId: ACCOUNT, type: 'AWS::::Account', alt: `AWS::::Account:${ACCOUNT}` },
])('the resource $resourceId is a $type with its evidence', ({ resourceId, type, alt }) => {
  const evidence = { checked: ['ssm', 'ssmmessages'] };
  expect(valid(toOcsf(aFinding({ resourceId, evidence }), CTX)).resources).toEqual([
    {
      uid: resourceId,
      uid_alt: alt,
      type,
      region: REGION,
      cloud_partition: 'aws',
      owner: { account: { uid: ACCOUNT, type_id: 10, type: 'AWS Account' } },
      data: { evidence },
    },
  ]);
});

it.each<{ status: Status; id: number; name: string }>([
  { status: 'PASS', id: 1, name: 'Pass' },
  { status: 'WARN', id: 2, name: 'Warning' },
  { status: 'FAIL', id: 3, name: 'Fail' },
  { status: 'ERROR', id: 0, name: 'Unknown' },
  { status: 'NOT_APPLICABLE', id: 99, name: 'Not Applicable' },
])('compliance of $status: status_id $id ($name), status_code keeps our status', ({ status, id, name }) => {
  expect(valid(toOcsf(aFinding({ status }), CTX)).compliance).toMatchObject({
    status_id: id,
    status: name,
    status_code: status,
  });
});

it.each<{ status: Status; severity: Severity; id: number }>([
  { status: 'FAIL', severity: 'CRITICAL', id: 5 },
  { status: 'FAIL', severity: 'HIGH', id: 4 },
  { status: 'WARN', severity: 'MEDIUM', id: 3 },
  { status: 'ERROR', severity: 'LOW', id: 2 },
  { status: 'FAIL', severity: 'INFORMATIONAL', id: 1 },
  { status: 'PASS', severity: 'HIGH', id: 1 },
])('severity_id of a $severity $status is $id', ({ status, severity, id }) => {
  expect(valid(toOcsf(aFinding({ status, severity }), CTX)).severity_id).toBe(id);
});

describe('activity and lifecycle follow the Security Hub record state', () => {
  const suppressed = {
    id: 'sup-1',
    reason: 'DRS replication server',
    owner: 'platform',
    expiresAt: '2027-01-01T00:00:00.000Z',
  };
  it.each([
    { case: 'a scan finding that fails', finding: aFinding(), activity: 1, status: 'New' },
    { case: 'a stored failure seen before', finding: aStoredFinding(), activity: 2, status: 'New' },
    {
      case: 'resolved',
      finding: aStoredFinding({ status: 'PASS', previousStatus: 'FAIL' }),
      activity: 3,
      status: 'Resolved',
    },
    {
      case: 'closed',
      finding: aStoredFinding({ closedAt: '2026-11-24T00:00:00.000Z', closeReason: 'RESOURCE_GONE' }),
      activity: 3,
      status: 'Archived',
    },
    { case: 'suppressed', finding: aStoredFinding({ suppressed }), activity: 3, status: 'Suppressed' },
  ])('$case: activity $activity, status $status', ({ finding, activity, status }) => {
    const event = valid(toOcsf(finding, CTX));
    expect([event.activity_id, event.status, event.type_uid]).toEqual([activity, status, 200300 + activity]);
  });

  it('a suppressed or closed event says why in unmapped, and keeps its real compliance status', () => {
    const event = valid(
      toOcsf(
        aStoredFinding({ suppressed, closedAt: '2026-11-24T00:00:00.000Z', closeReason: 'TERMINATED' }),
        CTX,
      ),
    );
    expect(event.compliance.status).toBe('Fail');
    expect(event.unmapped).toEqual({
      close_reason: 'TERMINATED',
      suppression_id: 'sup-1',
      suppression_reason: 'DRS replication server',
      suppression_owner: 'platform',
      suppression_expiresAt: '2027-01-01T00:00:00.000Z',
    });
    expect(event.finding_info.modified_time).toBe(Date.parse('2026-11-24T00:00:00.000Z'));
  });
});

describe('the schema itself refuses what OCSF forbids', () => {
  const good = () => JSON.parse(JSON.stringify(toOcsf(aStoredFinding(), CTX))) as Record<string, any>;
  it.each<{ case: string; change: (e: Record<string, any>) => void }>([
    { case: 'wrong class', change: (e) => (e.class_uid = 2001) },
    { case: 'type_uid not class × 100 + activity', change: (e) => (e.type_uid = 200301) },
    { case: 'no finding_info.uid', change: (e) => delete e.finding_info.uid },
    { case: 'no compliance', change: (e) => delete e.compliance },
    { case: 'no metadata.version', change: (e) => delete e.metadata.version },
    { case: 'no cloud.provider', change: (e) => delete e.cloud.provider },
    { case: 'a severity caption that does not match', change: (e) => (e.severity = 'Critical') },
    { case: 'a compliance caption that does not match', change: (e) => (e.compliance.status = 'Pass') },
    { case: 'an unknown compliance status_id', change: (e) => (e.compliance.status_id = 7) },
    { case: 'time as an ISO string', change: (e) => (e.time = '2026-11-23T10:00:00Z') },
    { case: 'an attribute the class does not have', change: (e) => (e.workflow = {}) },
    { case: 'a remediation without desc', change: (e) => delete e.remediation.desc },
  ])('$case', ({ change }) => {
    const event = good();
    expect(ocsfProblems(event)).toEqual([]);
    change(event);
    expect(ocsfProblems(event)).not.toEqual([]);
  });
});
