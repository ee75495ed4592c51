import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import eventNames from '../../shared/events/event-names.json';
import { READ_ACTIONS } from '../../shared/collect/permissions';
import { memberStackSetTemplate, MEMBER_STACKSET_FILE } from '../../scripts/deploy/member-stackset';
import { effectiveTemplate, evaluateConditions, referencesIn, type Template } from './cloudformation';

/**
 * Organization mode's member StackSet (DESIGN §7): the read-only role the auditor assumes, trusted by
 * the auditor's roles only, and the rules that forward the account's events to the auditor's bus.
 */

const ROOT = path.join(__dirname, '..', '..');
const template = JSON.parse(readFileSync(MEMBER_STACKSET_FILE, 'utf8')) as Template;
const cliPolicy = JSON.parse(
  readFileSync(path.join(ROOT, 'scripts', 'iam', 'ssm-audit-read-only-policy.json'), 'utf8'),
) as { Statement: { Action: string | string[] }[] };
const deployedReadPolicy = JSON.parse(
  readFileSync(path.join(ROOT, 'scripts', 'deploy', 'read-account-policy.json'), 'utf8'),
) as unknown;

const MEMBER = { 'AWS::AccountId': '111122223333', 'AWS::Region': 'eu-west-1' };
const BUS = 'arn:aws:events:eu-west-1:999988887777:event-bus/default';
/** Parameter values of a stack instance (the defaults CloudFormation fills in, then `given`). */
function instance(given: Record<string, string>) {
  return {
    ...MEMBER,
    MemberRoleName: 'SsmReadinessAuditorMember',
    AuditorRoleArns: ['arn:aws:iam::999988887777:role/auditor-worker'],
    OrganizationId: '',
    ExternalId: '',
    CentralEventBusArn: BUS,
    RoleRegion: 'us-east-1',
    ...given,
  };
}
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
};
type Role = {
  Properties: {
    AssumeRolePolicyDocument: { Statement: Statement[] };
    Policies: { PolicyDocument: { Statement: Statement[] } }[];
  };
};

it('is the generated template (npx tsx scripts/dev/generate-iam-policy.ts --write)', () => {
  expect(template).toEqual(memberStackSetTemplate());
});

describe('the member role', () => {
  const role = template.Resources.MemberRole as unknown as Role & { Condition: string };

  it('carries exactly the generated read-only policy, the one the CLI and the deployed functions use', () => {
    const policies = role.Properties.Policies;
    expect(policies).toHaveLength(1);
    expect(policies[0]!.PolicyDocument).toEqual(deployedReadPolicy);
    // The CLI's file is the same policy, written for the aws partition.
    const inAws = JSON.parse(
      JSON.stringify(policies[0]!.PolicyDocument).replace(
        /\{"Fn::Sub":"arn:\$\{AWS::Partition\}:([^"]+)"\}/g,
        '"arn:aws:$1"',
      ),
    );
    expect(inAws).toEqual(cliPolicy);
    expect(template.Resources.MemberRole).not.toHaveProperty('Properties.ManagedPolicyArns');
  });

  it('grants only reads (Describe/Get/List), no wildcard action, every one of them a collector permission', () => {
    const actions = role.Properties.Policies[0]!.PolicyDocument.Statement.flatMap((s) => {
      expect(s.Effect).toBe('Allow');
      return asList(s.Action);
    });
    const known = new Set<string>(Object.values(READ_ACTIONS).flat());
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect([action, /^[a-z0-9]+:(Describe|Get|List)[A-Za-z]+$/.test(action), known.has(action)]).toEqual([
        action,
        true,
        true,
      ]);
    }
    expect(new Set(actions)).toEqual(new Set(cliPolicy.Statement.flatMap((s) => asList(s.Action))));
  });

  it('trusts only the auditor role ARNs given as a parameter, for sts:AssumeRole', () => {
    const trust = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: { Ref: 'AuditorRoleArns' } },
      Action: 'sts:AssumeRole',
    });
    expect(Object.keys(trust[0]!.Principal as object)).toEqual(['AWS']);
    expect(template.Parameters).toMatchObject({ AuditorRoleArns: { Type: 'CommaDelimitedList' } });
  });

  it.each<{ case: string; given: Record<string, string>; expected: unknown }>([
    {
      case: 'a member account: the auditor must belong to the Organization',
      given: { OrganizationId: 'o-abcdefghij' },
      expected: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } },
    },
    {
      case: 'a standalone account: the auditor must pass the external id',
      given: { ExternalId: 'ext-1234' },
      expected: { StringEquals: { 'sts:ExternalId': 'ext-1234' } },
    },
    {
      case: 'both given: both are required',
      given: { OrganizationId: 'o-abcdefghij', ExternalId: 'ext-1234' },
      expected: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij', 'sts:ExternalId': 'ext-1234' } },
    },
  ])('conditions the trust: $case', ({ given, expected }) => {
    const parameters = instance({ ...given, 'AWS::Region': 'us-east-1' });
    const deployed = effectiveTemplate(template, parameters);
    const statement = (deployed.Resources.MemberRole as unknown as Role).Properties.AssumeRolePolicyDocument
      .Statement[0]!;
    // Refs to the parameters, as CloudFormation substitutes them.
    const condition = JSON.parse(
      JSON.stringify(statement.Condition).replace(/\{"Ref":"(\w+)"\}/g, (_, name: string) =>
        JSON.stringify(parameters[name as keyof typeof parameters]),
      ),
    );
    expect(condition).toEqual(expected);
  });

  it('refuses a stack without OrganizationId and without ExternalId (a Rules assertion)', () => {
    const rules = template.Rules as Record<string, { Assertions: { Assert: unknown }[] }>;
    const asserts = Object.values(rules).flatMap((r) => r.Assertions.map((a) => a.Assert));
    const holds = (given: Record<string, string>) =>
      asserts.every(
        (assert) =>
          evaluateConditions({ Resources: {}, Conditions: { Assert: assert } }, instance(given)).Assert,
      );
    expect(holds({})).toBe(false);
    expect(holds({ OrganizationId: 'o-abcdefghij' })).toBe(true);
    expect(holds({ ExternalId: 'ext-1234' })).toBe(true);
  });

  it('is named by the MemberRoleName parameter (default SsmReadinessAuditorMember), created in RoleRegion only (IAM is global)', () => {
    expect(role.Properties).toMatchObject({ RoleName: { Ref: 'MemberRoleName' } });
    expect(template.Parameters).toMatchObject({ MemberRoleName: { Default: 'SsmReadinessAuditorMember' } });
    const org = { OrganizationId: 'o-abcdefghij' };
    expect(
      effectiveTemplate(template, instance({ ...org, 'AWS::Region': 'us-east-1' })).Resources.MemberRole,
    ).toBeDefined();
    expect(
      effectiveTemplate(template, instance({ ...org, 'AWS::Region': 'eu-west-1' })).Resources.MemberRole,
    ).toBeUndefined();
  });
});

describe('the forwarding rules', () => {
  const rules = () =>
    Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => r.Properties as { EventPattern: unknown; Targets: unknown[] });
  const cloudTrail = (service: string, names: readonly string[]) => ({
    source: [`aws.${service}`],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: [`${service}.amazonaws.com`],
      eventName: [...names],
      errorCode: [{ exists: false }],
    },
  });

  it('forward exactly the events of shared/events/event-names.json, CloudTrail ones only without errorCode', () => {
    expect(rules().map((r) => r.EventPattern)).toEqual([
      {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: eventNames.stateChangeStates },
      },
      cloudTrail('ec2', eventNames.ec2Instance),
      cloudTrail('ec2', eventNames.ec2Network),
      cloudTrail('ssm', eventNames.ssmRegion),
      cloudTrail('iam', eventNames.iamRole),
      cloudTrail('iam', eventNames.iamAccount),
    ]);
  });

  it('target only the central event bus, through a role that may put events on that bus only', () => {
    for (const rule of rules()) {
      expect(rule.Targets).toEqual([
        {
          Id: 'auditor-event-bus',
          Arn: { Ref: 'CentralEventBusArn' },
          RoleArn: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
        },
      ]);
    }
    const forward = template.Resources.ForwardRole as unknown as Role;
    expect(forward.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'CentralEventBusArn' } },
    ]);
    expect(forward.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });

  it('are left out in the auditor’s own account and region, whose events are on that bus already', () => {
    const org = { OrganizationId: 'o-abcdefghij' };
    const count = (given: Record<string, string>) =>
      Object.values(effectiveTemplate(template, instance({ ...org, ...given })).Resources).filter(
        (r) => r.Type === 'AWS::Events::Rule',
      ).length;
    expect(count({})).toBe(6);
    expect(count({ 'AWS::AccountId': '999988887777', 'AWS::Region': 'us-east-1' })).toBe(6);
    expect(count({ 'AWS::AccountId': '111122223333', 'AWS::Region': 'eu-west-1' })).toBe(6);
    expect(count({ 'AWS::AccountId': '999988887777', 'AWS::Region': 'eu-west-1' })).toBe(0);
  });
});

describe('the template', () => {
  it('names no partition in any ARN', () => {
    expect(readFileSync(MEMBER_STACKSET_FILE, 'utf8')).not.toMatch(/arn:aws(-cn|-us-gov)?:/);
  });

  it('refers only to parameters, pseudo parameters and resources that exist whenever the referrer does', () => {
    const parameters = new Set(Object.keys(template.Parameters as object));
    for (const [name, resource] of Object.entries(template.Resources)) {
      for (const ref of referencesIn(resource)) {
        if (parameters.has(ref) || ref.startsWith('AWS::')) continue;
        expect([name, ref, template.Resources[ref]?.Condition]).toEqual([name, ref, resource.Condition]);
      }
    }
  });

  const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  (cfnLint.status === 0 ? it : it.skip)('passes cfn-lint (skipped where cfn-lint is not installed)', () => {
    const lint = spawnSync('cfn-lint', [MEMBER_STACKSET_FILE], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });
});
