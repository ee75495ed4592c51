/**
 * The member-account StackSet of Organization mode (DESIGN §7), as a CloudFormation document built from
 * the project's two single sources: the read-only policy (shared/collect/permissions.ts, the same one
 * the CLI's scripts/iam/ssm-audit-read-only-policy.json and the functions' read-account policy are
 * generated from) and the event names the event audit follows (shared/events/event-names.json, the
 * same file serverless.yml's patterns read). `npx tsx scripts/dev/generate-iam-policy.ts --write`
 * writes it to scripts/deploy/member-stackset.json; a test keeps that file equal to this output.
 *
 * In each member account and region of the stack set it creates:
 * - the read-only role the auditor assumes (IAM is global: created only in the stack instance of
 *   RoleRegion), trusted by the auditor's role ARNs only and only from inside the Organization
 *   (aws:PrincipalOrgID) or, for an account outside it, with the ExternalId (sts:ExternalId);
 * - rules forwarding the EC2, SSM and IAM events the event audit follows to the auditor's event bus,
 *   through a role that may put events on that bus and nowhere else.
 */
import path from 'node:path';
import { readOnlyPolicyForCloudFormation } from '../../shared/collect/permissions';
import eventNames from '../../shared/events/event-names.json';

export const MEMBER_STACKSET_FILE = path.join(__dirname, 'member-stackset.json');

/** The role name the auditor assumes in every member account unless the stack set says otherwise. */
export const DEFAULT_MEMBER_ROLE_NAME = 'SsmReadinessAuditorMember';

const cloudTrail = (service: 'ec2' | 'ssm' | 'iam', names: readonly string[]) => ({
  source: [`aws.${service}`],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: [`${service}.amazonaws.com`],
    eventName: [...names],
    // A failed call changed nothing (DESIGN §6).
    errorCode: [{ exists: false }],
  },
});

/**
 * The patterns of the event audit (serverless.yml), one forwarding rule each. IAM's CloudTrail events
 * reach EventBridge in us-east-1 only; in the other regions those two rules simply never match.
 */
export const FORWARDED_PATTERNS = {
  ForwardEc2StateChanges: {
    description: 'EC2 instance state changes',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: [...eventNames.stateChangeStates] },
    },
  },
  ForwardEc2InstanceCalls: {
    description: 'EC2 instance profile and metadata changes',
    pattern: cloudTrail('ec2', eventNames.ec2Instance),
  },
  ForwardEc2NetworkCalls: {
    description: 'VPC endpoint, security group, route and network ACL changes',
    pattern: cloudTrail('ec2', eventNames.ec2Network),
  },
  ForwardSsmCalls: {
    description: 'Systems Manager service setting, activation and managed node changes',
    pattern: cloudTrail('ssm', eventNames.ssmRegion),
  },
  ForwardIamRoleCalls: {
    description: 'IAM role and instance profile changes',
    pattern: cloudTrail('iam', eventNames.iamRole),
  },
  ForwardIamAccountCalls: {
    description: 'IAM policy version and instance profile changes',
    pattern: cloudTrail('iam', eventNames.iamAccount),
  },
} as const;

const BUS_ARN_FIELD = (index: 3 | 4) => ({
  'Fn::Select': [index, { 'Fn::Split': [':', { Ref: 'CentralEventBusArn' }] }],
});

export function memberStackSetTemplate(): Record<string, unknown> {
  const forwardRules = Object.fromEntries(
    Object.entries(FORWARDED_PATTERNS).map(([name, { description, pattern }]) => [
      name,
      {
        Type: 'AWS::Events::Rule',
        Condition: 'ForwardEvents',
        Properties: {
          Description: `SSM readiness auditor: forwards ${description} to the auditor's event bus`,
          EventPattern: pattern,
          Targets: [
            {
              Id: 'auditor-event-bus',
              Arn: { Ref: 'CentralEventBusArn' },
              RoleArn: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
            },
          ],
        },
      },
    ]),
  );
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      "SSM readiness auditor, Organization mode: the read-only role the auditor assumes in this account, and the rules forwarding this account's EC2, SSM and IAM events to the auditor's event bus. Deploy as a service-managed StackSet (see README 'Organization mode').",
    Parameters: {
      MemberRoleName: {
        Type: 'String',
        Default: DEFAULT_MEMBER_ROLE_NAME,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description: "Name of the read-only role (the auditor's orgMemberRoleName deploy parameter)",
      },
      AuditorRoleArns: {
        Type: 'CommaDelimitedList',
        Description:
          "ARNs of the auditor's roles that may assume the member role (the auditor stack's output OrgAuditorRoleArns)",
      },
      OrganizationId: {
        Type: 'String',
        Default: '',
        AllowedPattern: '^(o-[a-z0-9]{10,32})?$',
        Description:
          "The Organization's id (o-...): the auditor's roles must belong to it (aws:PrincipalOrgID). Empty for a standalone account, which then needs ExternalId",
      },
      ExternalId: {
        Type: 'String',
        Default: '',
        NoEcho: true,
        AllowedPattern: '^([\\w+=,.@:/-]{2,1224})?$',
        Description:
          'The external id the auditor passes (its orgExternalId deploy parameter); required when OrganizationId is empty, and also enforced when both are given',
      },
      CentralEventBusArn: {
        Type: 'String',
        AllowedPattern: '^arn:[a-z-]+:events:[a-z0-9-]+:\\d{12}:event-bus/[\\w.\\-/]+$',
        Description: "The auditor's event bus (the auditor stack's output CentralEventBusArn)",
      },
      RoleRegion: {
        Type: 'String',
        Default: 'us-east-1',
        AllowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d+$',
        Description:
          'The one region whose stack instance creates the member role (IAM roles are global); include it in the stack set regions',
      },
    },
    Rules: {
      OrganizationIdOrExternalId: {
        Assertions: [
          {
            Assert: {
              'Fn::Or': [
                { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OrganizationId' }, ''] }] },
                { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ExternalId' }, ''] }] },
              ],
            },
            AssertDescription:
              'Give OrganizationId (member accounts) or ExternalId (a standalone account): the role is never trusted without one',
          },
        ],
      },
    },
    Conditions: {
      HasOrganizationId: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OrganizationId' }, ''] }] },
      HasExternalId: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ExternalId' }, ''] }] },
      HasOrganizationIdAndExternalId: {
        'Fn::And': [{ Condition: 'HasOrganizationId' }, { Condition: 'HasExternalId' }],
      },
      CreateMemberRole: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }] },
      // The auditor's own account and region already has these events on its bus; a rule there
      // would only send them back to the bus they came from.
      ForwardEvents: {
        'Fn::Not': [
          {
            'Fn::And': [
              { 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, BUS_ARN_FIELD(4)] },
              { 'Fn::Equals': [{ Ref: 'AWS::Region' }, BUS_ARN_FIELD(3)] },
            ],
          },
        ],
      },
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'CreateMemberRole',
        Properties: {
          RoleName: { Ref: 'MemberRoleName' },
          Description: 'SSM readiness auditor: read-only access for the Organization-wide audit',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'AuditorRolesOnly',
                Effect: 'Allow',
                Principal: { AWS: { Ref: 'AuditorRoleArns' } },
                Action: 'sts:AssumeRole',
                // The auditor must belong to the Organization (member accounts) or present the
                // external id (a standalone account); with both given, both are required.
                Condition: {
                  'Fn::If': [
                    'HasOrganizationIdAndExternalId',
                    {
                      StringEquals: {
                        'aws:PrincipalOrgID': { Ref: 'OrganizationId' },
                        'sts:ExternalId': { Ref: 'ExternalId' },
                      },
                    },
                    {
                      'Fn::If': [
                        'HasOrganizationId',
                        { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } },
                        { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
                      ],
                    },
                  ],
                },
              },
            ],
          },
          Policies: [
            { PolicyName: 'ssm-readiness-read-only', PolicyDocument: readOnlyPolicyForCloudFormation() },
          ],
        },
      },
      ForwardRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'ForwardEvents',
        Properties: {
          Description:
            "SSM readiness auditor: lets this account's forwarding rules put events on the auditor's bus",
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'put-to-auditor-bus',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'CentralEventBusArn' } },
                ],
              },
            },
          ],
        },
      },
      ...forwardRules,
    },
    Outputs: {
      MemberRoleArn: {
        Condition: 'CreateMemberRole',
        Description: 'The role the auditor assumes in this account',
        Value: { 'Fn::GetAtt': ['MemberRole', 'Arn'] },
      },
    },
  };
}
