import {
  ACCOUNT,
  FULL_AWS_ACCESS,
  OU_ID,
  ROOT_ID,
  allow,
  anOrganization,
  anScp,
  aRole,
  aSnapshot,
  deny,
  trustFor,
  type OrganizationsInput,
} from '../support/builders';
import { agentTargetOf, type AgentNode } from '../../shared/agent/permissions';
import { assessScp, describeScpStatement, scpOverride, type ScpAssessment } from '../../shared/agent/scp';
import { buildInventory } from '../../shared/snapshot/inventory';
import { parseSnapshot } from '../../shared/snapshot/load';

/**
 * The SCP layer on its own (shared/agent/scp.ts): "there must be an explicit Allow statement at every level
 * from the root through each OU in the direct path to the account", an explicit Deny at any level denies
 * (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html),
 * and SCPs do not affect the management account or service-linked roles
 * (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
 */

const INSTANCE: AgentNode = { kind: 'ec2', instanceId: 'i-0123456789abcdef0' };

function assess(
  organizations: OrganizationsInput | undefined,
  options: { rolePath?: string; node?: AgentNode } = {},
): ScpAssessment {
  const inventory = buildInventory(
    parseSnapshot(
      aSnapshot({
        roles: [aRole({ name: 'AgentRole', path: options.rolePath, trust: trustFor('ssm.amazonaws.com') })],
        ...(organizations ? { organizations } : {}),
      }),
    ),
  );
  const role = inventory.roles.get('agentrole')!;
  return assessScp(inventory, role, agentTargetOf(inventory, options.node ?? INSTANCE));
}

describe('assessScp', () => {
  it.each([
    { case: 'no section', organizations: undefined, status: 'notCollected' },
    { case: 'FullAWSAccess at every level', organizations: anOrganization(), status: 'allowed' },
    {
      case: 'a Deny at the root',
      organizations: anOrganization({ root: [FULL_AWS_ACCESS, anScp('p-d', 'D', deny('ssm:*'))] }),
      status: 'denied',
    },
    {
      case: 'an Allow of the agent actions at the root only, FullAWSAccess below',
      organizations: anOrganization({
        root: [anScp('p-a', 'A', allow(['ssm:*', 'ssmmessages:*', 'ec2messages:*']))],
      }),
      status: 'allowed',
    },
    {
      case: 'the Allow of the message services sits in the OU, not the account (allow-list at the account)',
      organizations: anOrganization({ account: [anScp('p-a', 'A', allow('ssm:*'))] }),
      status: 'denied',
    },
    {
      case: 'an Allow scoped to another account’s instances does not allow this one',
      organizations: anOrganization({
        account: [
          anScp(
            'p-a',
            'A',
            allow('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:999999999999:instance/*'),
            allow(['ssmmessages:*', 'ec2messages:*']),
          ),
        ],
      }),
      status: 'denied',
    },
    {
      case: 'an Allow scoped to this account’s instances allows it',
      organizations: anOrganization({
        account: [
          anScp(
            'p-a',
            'A',
            allow('ssm:UpdateInstanceInformation', `arn:aws:ec2:*:${ACCOUNT}:instance/*`),
            allow(['ssmmessages:*', 'ec2messages:*']),
          ),
        ],
      }),
      status: 'allowed',
    },
  ])('$case → $status', ({ organizations, status }) => {
    expect(assess(organizations).status).toBe(status);
  });

  it('does not apply to a service-linked role (path /aws-service-role/)', () => {
    // Prepare
    const organizations = anOrganization({ root: [FULL_AWS_ACCESS, anScp('p-d', 'D', deny('*'))] });
    // Act
    const linked = assess(organizations, { rolePath: '/aws-service-role/ssm.amazonaws.com/' });
    const ordinary = assess(organizations, { rolePath: '/service-role/' });
    // Assess
    expect(linked).toEqual({ status: 'notApplicable', why: 'serviceLinkedRole' });
    expect(ordinary.status).toBe('denied');
  });

  it('does not apply in the management account, whatever the SCPs say', () => {
    const organizations = anOrganization({
      managementAccountId: ACCOUNT,
      root: [anScp('p-d', 'D', deny('*'))],
    });
    expect(assess(organizations)).toEqual({ status: 'notApplicable', why: 'managementAccount' });
  });

  it('an activation is asked on every node it can register: a Deny on some of them is a partial denial', () => {
    // Prepare
    const organizations = anOrganization({
      root: [
        FULL_AWS_ACCESS,
        anScp('p-d', 'D', deny('ssm:UpdateInstanceInformation', 'arn:aws:ssm:*:*:managed-instance/mi-0a*')),
      ],
    });
    // Act
    const activation = assess(organizations, { node: { kind: 'anyHybrid' } });
    const otherNode = assess(organizations, { node: { kind: 'hybrid', nodeId: 'mi-0b23456789abcdef0' } });
    const deniedNode = assess(organizations, { node: { kind: 'hybrid', nodeId: 'mi-0a23456789abcdef0' } });
    // Assess
    expect(activation.status === 'denied' && activation.blocks.map((b) => [b.action, b.decision])).toEqual([
      ['ssm:UpdateInstanceInformation', 'partial'],
    ]);
    expect(otherNode.status).toBe('allowed');
    expect(deniedNode.status === 'denied' && deniedNode.blocks[0]?.decision).toBe('explicitDeny');
  });

  it('an unreadable level is never read as an Allow, nor as a missing one', () => {
    // Prepare: the account's only SCP cannot be read; nothing readable denies.
    const organizations = anOrganization({ undescribed: ['p-FullAWSAccess'] });
    // Act
    const result = assess(organizations);
    // Assess
    expect(result.status).toBe('unreadable');
    expect(result.status === 'unreadable' && result.gaps.map((g) => [g.kind, g.call, g.target?.id])).toEqual([
      ['policyContent', 'organizations:DescribePolicy', ROOT_ID],
      ['policyContent', 'organizations:DescribePolicy', OU_ID],
      ['policyContent', 'organizations:DescribePolicy', ACCOUNT],
    ]);
  });

  it('names the policy, the target and the statement of a Deny', () => {
    // Prepare
    const organizations = anOrganization({
      ous: [
        {
          id: OU_ID,
          name: 'Workloads',
          scps: [
            FULL_AWS_ACCESS,
            anScp('p-d', 'NoSsm', allow('ec2:*'), deny('ssm:*', '*', { Sid: 'Block' })),
          ],
        },
      ],
    });
    // Act
    const result = assess(organizations);
    // Assess
    if (result.status !== 'denied') throw new Error(`expected denied, got ${result.status}`);
    expect(result.blocks[0]?.statements.map(describeScpStatement)).toEqual([
      `Deny SCP NoSsm (p-d) attached to OU Workloads (${OU_ID}) Statement[1] (Block)`,
    ]);
    expect(scpOverride(result, 'AgentRole')).toMatchObject({
      reason: 'SCP_DENIES_AGENT',
      variant: 'explicitDeny',
      params: {
        policyId: 'p-d',
        policyName: 'NoSsm',
        targetLabel: `OU Workloads (${OU_ID})`,
        statement: 'Statement[1] (Block)',
        actions: 'ssm:UpdateInstanceInformation',
        roleName: 'AgentRole',
      },
    });
  });

  it('leaves the finding alone when the layer allows, is not collected or does not apply', () => {
    expect(scpOverride(assess(anOrganization()), 'AgentRole')).toBeUndefined();
    expect(scpOverride(assess(undefined), 'AgentRole')).toBeUndefined();
  });
});
