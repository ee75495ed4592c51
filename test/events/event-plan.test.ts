import { planForEvent, InvalidEventError } from '../../shared/events/event-plan';
import eventNames from '../../shared/events/event-names.json';
import { recheckEvent, recheckScheduleName } from '../../shared/events/recheck';

/** DESIGN §6: each event → the smallest scope. CloudTrail shapes follow the services' request/response elements. */

const REGIONS = ['eu-west-1', 'us-east-1'];
const cloudTrail = (
  source: string,
  eventName: string,
  detail: Record<string, unknown> = {},
  region = 'eu-west-1',
) => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'AWS API Call via CloudTrail',
  source: `aws.${source}`,
  account: '123456789012',
  time: '2026-11-23T10:00:00Z',
  region,
  resources: [],
  detail: {
    eventSource: `${source}.amazonaws.com`,
    eventName,
    awsRegion: region,
    requestParameters: null,
    responseElements: null,
    ...detail,
  },
});

/** The event a re-check schedule delivers (shared/events/recheck.ts builds it for CreateSchedule). */
const recheck = () =>
  recheckEvent({
    accountId: '123456789012',
    region: 'eu-west-1',
    partition: 'aws',
    instanceId: 'i-0123456789abcdef0',
    dueAt: new Date('2026-11-23T10:28:00Z'),
    fireAt: new Date('2026-11-23T10:29:00Z'),
  }) as Record<string, unknown>;

describe('planForEvent', () => {
  it.each([
    {
      case: 'RunInstances: the launched instances (responseElements.instancesSet)',
      event: cloudTrail('ec2', 'RunInstances', {
        responseElements: {
          instancesSet: {
            items: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }, { instanceId: 'i-0aaaaaaaaaaaaaaa2' }],
          },
        },
      }),
      expected: {
        action: 'audit',
        targets: [
          {
            region: 'eu-west-1',
            scope: { kind: 'instances', instanceIds: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'] },
          },
        ],
      },
    },
    {
      case: 'AssociateIamInstanceProfile: the instance of the request',
      event: cloudTrail('ec2', 'AssociateIamInstanceProfile', {
        requestParameters: {
          AssociateIamInstanceProfileRequest: {
            InstanceId: 'i-0bbbbbbbbbbbbbbb1',
            IamInstanceProfile: { Name: 'app' },
          },
        },
      }),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'instances', instanceIds: ['i-0bbbbbbbbbbbbbbb1'] } },
        ],
      },
    },
    {
      case: 'DisassociateIamInstanceProfile: the instance of the response',
      event: cloudTrail('ec2', 'DisassociateIamInstanceProfile', {
        requestParameters: { DisassociateIamInstanceProfileRequest: { AssociationId: 'iip-assoc-0123' } },
        responseElements: {
          DisassociateIamInstanceProfileResponse: {
            iamInstanceProfileAssociation: { instanceId: 'i-0ccccccccccccccc1', state: 'disassociating' },
          },
        },
      }),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'instances', instanceIds: ['i-0ccccccccccccccc1'] } },
        ],
      },
    },
    {
      case: 'CreateVpcEndpoint: its VPC',
      event: cloudTrail('ec2', 'CreateVpcEndpoint', {
        requestParameters: {
          CreateVpcEndpointRequest: {
            VpcId: 'vpc-0ddddddddddddddd1',
            ServiceName: 'com.amazonaws.eu-west-1.ssm',
          },
        },
      }),
      expected: {
        action: 'audit',
        targets: [{ region: 'eu-west-1', scope: { kind: 'vpc', vpcId: 'vpc-0ddddddddddddddd1' } }],
      },
    },
    {
      case: 'ModifyVpcEndpoint: the VPC of the endpoint (looked up)',
      event: cloudTrail('ec2', 'ModifyVpcEndpoint', {
        requestParameters: {
          ModifyVpcEndpointRequest: { VpcEndpointId: 'vpce-0eeeeeeeeeeeeeee1', PrivateDnsEnabled: true },
        },
      }),
      expected: {
        action: 'audit-vpc-of',
        region: 'eu-west-1',
        resource: { type: 'vpc-endpoint', id: 'vpce-0eeeeeeeeeeeeeee1' },
      },
    },
    {
      case: 'CreateRoute: the VPC of the route table (looked up)',
      event: cloudTrail('ec2', 'CreateRoute', {
        requestParameters: {
          routeTableId: 'rtb-0fffffffffffffff1',
          destinationCidrBlock: '0.0.0.0/0',
          natGatewayId: 'nat-01',
        },
      }),
      expected: {
        action: 'audit-vpc-of',
        region: 'eu-west-1',
        resource: { type: 'route-table', id: 'rtb-0fffffffffffffff1' },
      },
    },
    {
      case: 'ReplaceNetworkAclEntry: the VPC of the ACL (looked up)',
      event: cloudTrail('ec2', 'ReplaceNetworkAclEntry', {
        requestParameters: { networkAclId: 'acl-01234567', ruleNumber: 100, egress: true },
      }),
      expected: {
        action: 'audit-vpc-of',
        region: 'eu-west-1',
        resource: { type: 'network-acl', id: 'acl-01234567' },
      },
    },
    {
      case: 'DeleteVpcEndpoints naming no VPC resource it can look up: the region',
      event: cloudTrail('ec2', 'DeleteVpcEndpoints', {
        requestParameters: { DeleteVpcEndpointsRequest: { VpcEndpointId: { tag: 1, content: 'x' } } },
      }),
      expected: { action: 'audit', targets: [{ region: 'eu-west-1', scope: { kind: 'region' } }] },
    },
    {
      case: 'DeleteRole (IAM, us-east-1): that role in every audited region',
      event: cloudTrail('iam', 'DeleteRole', { requestParameters: { roleName: 'old-role' } }, 'us-east-1'),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'role', roleName: 'old-role' } },
          { region: 'us-east-1', scope: { kind: 'role', roleName: 'old-role' } },
        ],
      },
    },
    {
      case: 'CreatePolicyVersion: a managed policy may reach any role, every audited region',
      event: cloudTrail(
        'iam',
        'CreatePolicyVersion',
        { requestParameters: { policyArn: 'arn:aws:iam::123456789012:policy/p', setAsDefault: true } },
        'us-east-1',
      ),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'region' } },
          { region: 'us-east-1', scope: { kind: 'region' } },
        ],
      },
    },
    {
      case: 'DeregisterManagedInstance: the region',
      event: cloudTrail('ssm', 'DeregisterManagedInstance', {
        requestParameters: { instanceId: 'mi-0123456789abcdef0' },
      }),
      expected: { action: 'audit', targets: [{ region: 'eu-west-1', scope: { kind: 'region' } }] },
    },
    {
      case: 'ReplaceIamInstanceProfileAssociation: the instance of the response',
      event: cloudTrail('ec2', 'ReplaceIamInstanceProfileAssociation', {
        requestParameters: {
          ReplaceIamInstanceProfileAssociationRequest: { AssociationId: 'iip-assoc-0456' },
        },
        responseElements: {
          ReplaceIamInstanceProfileAssociationResponse: {
            iamInstanceProfileAssociation: { instanceId: 'i-0dddddddddddddd01' },
          },
        },
      }),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'instances', instanceIds: ['i-0dddddddddddddd01'] } },
        ],
      },
    },
    {
      case: 'ModifyInstanceMetadataOptions (succeeded): the instance',
      event: cloudTrail('ec2', 'ModifyInstanceMetadataOptions', {
        requestParameters: {
          ModifyInstanceMetadataOptionsRequest: { InstanceId: 'i-0eeeeeeeeeeeeee01', HttpTokens: 'required' },
        },
      }),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'instances', instanceIds: ['i-0eeeeeeeeeeeeee01'] } },
        ],
      },
    },
    {
      case: 'AuthorizeSecurityGroupIngress: the VPC of the group (looked up)',
      event: cloudTrail('ec2', 'AuthorizeSecurityGroupIngress', {
        requestParameters: { groupId: 'sg-0123456789abcdef0' },
      }),
      expected: {
        action: 'audit-vpc-of',
        region: 'eu-west-1',
        resource: { type: 'security-group', id: 'sg-0123456789abcdef0' },
      },
    },
    {
      case: 'AddRoleToInstanceProfile: the role in every audited region',
      event: cloudTrail(
        'iam',
        'AddRoleToInstanceProfile',
        { requestParameters: { instanceProfileName: 'app', roleName: 'app-role' } },
        'us-east-1',
      ),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'role', roleName: 'app-role' } },
          { region: 'us-east-1', scope: { kind: 'role', roleName: 'app-role' } },
        ],
      },
    },
    ...(['ResetServiceSetting', 'CreateActivation', 'DeleteActivation'] as const).map((name) => ({
      case: `${name}: the region`,
      event: cloudTrail('ssm', name),
      expected: { action: 'audit', targets: [{ region: 'eu-west-1', scope: { kind: 'region' } }] },
    })),
    {
      case: 'an instance shutting down closes its findings (DESIGN §3 instance states)',
      event: {
        version: '0',
        id: 'e',
        'detail-type': 'EC2 Instance State-change Notification',
        source: 'aws.ec2',
        account: '123456789012',
        time: '2026-11-23T10:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { 'instance-id': 'i-0123456789abcdef0', state: 'shutting-down' },
      },
      expected: { action: 'close', region: 'eu-west-1', instanceIds: ['i-0123456789abcdef0'] },
    },
    {
      case: 'an API call the auditor does not follow',
      event: cloudTrail('ec2', 'CreateTags'),
      expected: { action: 'ignore', reason: 'ec2:CreateTags is not audited' },
    },
    {
      case: 'a stopped instance is re-evaluated (its findings become N/A), not closed',
      event: {
        version: '0',
        id: 'e',
        'detail-type': 'EC2 Instance State-change Notification',
        source: 'aws.ec2',
        account: '123456789012',
        time: '2026-11-23T10:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { 'instance-id': 'i-0123456789abcdef0', state: 'stopped' },
      },
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'instances', instanceIds: ['i-0123456789abcdef0'] } },
        ],
      },
    },
    {
      case: 'the registration re-check (our one-time schedule) audits its instance',
      event: recheck(),
      expected: {
        action: 'audit',
        targets: [
          { region: 'eu-west-1', scope: { kind: 'instances', instanceIds: ['i-0123456789abcdef0'] } },
        ],
        reason: 're-check of i-0123456789abcdef0: its registration grace ended at 2026-11-23T10:28:00.000Z',
      },
    },
    {
      case: 'a "re-check" from another source is not ours: ignored',
      event: { ...recheck(), source: 'com.example.other' },
      expected: { action: 'ignore', reason: 'detail-type SSM readiness re-check is not audited' },
    },
  ])('$case', ({ event, expected }) => {
    expect(planForEvent(event, REGIONS)).toMatchObject(expected);
  });

  it('maps every subscribed event name to something other than "ignore"', () => {
    for (const [group, names] of Object.entries(eventNames)) {
      if (group === 'stateChangeStates') continue;
      const source = group.startsWith('ec2') ? 'ec2' : group.startsWith('iam') ? 'iam' : 'ssm';
      for (const name of names) {
        const plan = planForEvent(
          cloudTrail(source, name, {
            requestParameters: {
              roleName: 'r',
              instanceId: 'i-0123456789abcdef0',
              vpcId: 'vpc-0123456789abcdef0',
            },
          }),
          REGIONS,
        );
        expect([name, plan.action]).not.toEqual([name, 'ignore']);
      }
    }
  });

  it.each([
    {
      case: 'not an EventBridge event',
      event: { hello: 'world' },
      expected: /^event\.version|^event\.id|^event/,
    },
    {
      case: 'a CloudTrail event without eventName',
      event: { ...cloudTrail('ec2', 'RunInstances'), detail: { eventSource: 'ec2.amazonaws.com' } },
      expected: /event\.detail\.eventName/,
    },
    {
      case: 'an unknown instance state',
      event: {
        version: '0',
        id: 'e',
        'detail-type': 'EC2 Instance State-change Notification',
        source: 'aws.ec2',
        account: '1',
        time: '2026-11-23T10:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { 'instance-id': 'i-0123456789abcdef0', state: 'exploded' },
      },
      expected: /event\.detail\.state/,
    },
    {
      case: 'a re-check without a valid instance id',
      event: { ...recheck(), detail: { 'instance-id': 'i-zz', registrationDueAt: '2026-11-23T10:28:00Z' } },
      expected: /event\.detail\.instance-id: must be an EC2 instance id/,
    },
    {
      case: 'a re-check without its grace end',
      event: { ...recheck(), detail: { 'instance-id': 'i-0123456789abcdef0' } },
      expected: /event\.detail\.registrationDueAt/,
    },
  ])('rejects $case with an error naming the field', ({ event, expected }) => {
    expect(() => planForEvent(event, REGIONS)).toThrow(InvalidEventError);
    expect(() => planForEvent(event, REGIONS)).toThrow(expected);
  });
});

describe('bad events are rejected at the edge (issue 9)', () => {
  /** `levels` objects nested under requestParameters, built without recursion. */
  const nested = (levels: number, wrap: (inner: unknown) => unknown = (inner) => ({ a: inner })) => {
    let value: unknown = { instanceId: 'i-0aaaaaaaaaaaaaaa1' };
    for (let i = 0; i < levels; i++) value = wrap(value);
    return cloudTrail('ec2', 'RunInstances', { requestParameters: { nested: value } });
  };
  const withString = (s: string) => cloudTrail('ec2', 'RunInstances', { requestParameters: { userData: s } });

  it.each([
    {
      case: 'objects nested 3,000 deep',
      event: nested(3_000),
      expected: /^event: nested deeper than 64 levels$/,
    },
    {
      case: 'arrays nested 100,000 deep',
      event: nested(100_000, (inner) => [inner]),
      expected: /^event: nested deeper than 64 levels$/,
    },
    {
      case: 'a 300 KB string',
      event: withString('x'.repeat(300 * 1024)),
      expected: /^event: larger than 256 KB \(EventBridge's maximum event size\)$/,
    },
    {
      case: '100,000 three-byte characters (300 KB of UTF-8)',
      event: withString('€'.repeat(100_000)),
      expected: /^event: larger than 256 KB/,
    },
    {
      case: '100,000 small keys',
      event: cloudTrail('ec2', 'RunInstances', {
        requestParameters: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
      }),
      expected: /^event: larger than 256 KB/,
    },
    {
      case: 'an envelope region that is not a region',
      event: { ...cloudTrail('ec2', 'RunInstances'), region: 'evil.example.com' },
      expected: /^event\.region: must be an AWS region name like eu-west-1$/,
    },
    {
      case: 'a CloudTrail awsRegion that is not a region',
      event: cloudTrail('ec2', 'RunInstances', { awsRegion: 'evil.example.com' }),
      expected: /^event\.detail\.awsRegion: must be an AWS region name like eu-west-1$/,
    },
  ])('rejects $case with a one-line InvalidEventError', ({ event, expected }) => {
    // Act
    let error: unknown;
    try {
      planForEvent(event, REGIONS);
    } catch (err) {
      error = err;
    }
    // Assess
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toMatch(expected);
  });

  it.each([
    { case: 'nested 60 deep', event: nested(60) },
    { case: 'a 200 KB string', event: withString('x'.repeat(200 * 1024)) },
  ])('accepts an event $case', ({ event }) => {
    expect(planForEvent(event, REGIONS)).toMatchObject({ action: 'audit' });
  });

  it.each([
    {
      case: 'a 100,000-character detail-type',
      event: { ...cloudTrail('ec2', 'RunInstances'), 'detail-type': 'D'.repeat(100_000) },
      expected: `detail-type ${'D'.repeat(64)}… is not audited`,
    },
    {
      case: 'a 100,000-character eventName',
      event: cloudTrail('ec2', 'E'.repeat(100_000)),
      expected: `ec2:${'E'.repeat(64)}… is not audited`,
    },
    {
      case: 'a 100,000-character errorCode',
      event: cloudTrail('ec2', 'RunInstances', { errorCode: 'C'.repeat(100_000) }),
      expected: `ec2:RunInstances failed (${'C'.repeat(64)}…)`,
    },
    {
      case: 'a line break in the eventName',
      event: cloudTrail('ec2', 'Run\nInstances'),
      expected: 'ec2:"Run\\nInstances" is not audited',
    },
  ])('echoes at most 64 characters of $case, on one line', ({ event, expected }) => {
    expect(planForEvent(event, REGIONS)).toEqual({ action: 'ignore', reason: expected });
  });
});

describe('re-check schedule names', () => {
  it.each(['eu-west-1', 'ap-southeast-4', 'us-gov-west-1'])(
    'in %s: within CreateSchedule’s 64 characters of [0-9a-zA-Z-_.], one per instance and grace end',
    (region) => {
      const name = recheckScheduleName({
        region,
        instanceId: 'i-0123456789abcdef0',
        dueAt: new Date('2026-11-23T10:28:00.000Z'),
      });
      expect(name).toBe(`recheck-${region}-i-0123456789abcdef0-20261123T102800Z`);
      expect(name).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
    },
  );
});
