import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  PARTITIONS,
  readOnlyPolicy,
  readOnlyPolicyForCloudFormation,
  ORGANIZATION_READ_ACTIONS,
  organizationPolicy,
  READ_ACTIONS,
} from '../../shared/collect/permissions';
import { POLICY_FILES } from '../../scripts/dev/generate-iam-policy';
import type { CollectionScope } from '../../shared/collect/scope';
import { evaluatePolicies } from '../../shared/policy/evaluator';
import { parsePolicyDocument } from '../../shared/policy/document';
import { SECTIONS } from '../../shared/snapshot/schema';
import { buildCollectionFleet } from '../support/collection-fleet';
import { collectionHarness } from '../support/collection-harness';

/** The README's ready IAM policy for `scan --region`: complete, read-only, and the file is current. */

const POLICY_FILE = path.join(__dirname, '..', '..', 'scripts', 'iam', 'ssm-audit-read-only-policy.json');
const h = collectionHarness();
const document = parsePolicyDocument(readOnlyPolicy());
const SETTING_ARN =
  'arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/managed-instance/default-ec2-instance-management-role';
/** The policy's decision for an action on the resource the collector asks for (the DHMC setting for GetServiceSetting). */
const allows = (action: string, resource = action === 'ssm:GetServiceSetting' ? SETTING_ARN : '*') =>
  evaluatePolicies({ identityPolicies: [{ source: 'read-only', document }], action, resource }).decision;

it('the committed policy files are the generated policies (npx tsx scripts/dev/generate-iam-policy.ts --write)', () => {
  expect(POLICY_FILES.cli).toBe(POLICY_FILE);
  expect(JSON.parse(readFileSync(POLICY_FILE, 'utf8'))).toEqual(readOnlyPolicy());
  expect(JSON.parse(readFileSync(POLICY_FILES.cloudFormation, 'utf8'))).toEqual(
    readOnlyPolicyForCloudFormation(),
  );
});

it.each(PARTITIONS)(
  'generates the policy for the %s partition, and the deployed one for the stack’s own',
  (partition) => {
    const arns = (policy: Record<string, unknown>) =>
      (policy.Statement as { Resource: unknown }[]).flatMap((s) =>
        s.Resource === '*' ? [] : [s.Resource].flat(),
      );
    const own = arns(readOnlyPolicy(partition));
    expect(own).toHaveLength(2);
    expect(own.every((arn) => typeof arn === 'string' && arn.startsWith(`arn:${partition}:ssm:`))).toBe(true);
    // Same actions and settings in every partition; only the partition differs.
    expect(JSON.stringify(readOnlyPolicy(partition)).replaceAll(`arn:${partition}:`, 'arn:P:')).toBe(
      JSON.stringify(readOnlyPolicy()).replaceAll('arn:aws:', 'arn:P:'),
    );
    expect(arns(readOnlyPolicyForCloudFormation())).toEqual(
      own.map((arn) => ({ 'Fn::Sub': String(arn).replace(`arn:${partition}:`, 'arn:${AWS::Partition}:') })),
    );
  },
);

it('grants only read actions (Describe/Get/List), never a wildcard action', () => {
  const actions = Object.values(READ_ACTIONS).flat();
  expect(actions.every((a) => /^[a-z0-9]+:(Describe|Get|List)[A-Za-z]+$/.test(a))).toBe(true);
  expect(JSON.stringify(readOnlyPolicy())).not.toMatch(/"[a-z0-9]+:\*"|"\*"\s*\]?\s*,?\s*"Action"/);
});

it('allows every call that fills a snapshot section (the organizations section: the Organization policy)', () => {
  for (const [section, calls] of Object.entries(SECTIONS))
    for (const call of calls)
      expect([call, section === 'organizations' ? orgAllows(call) : allows(call)]).toEqual([call, 'allowed']);
  // The member accounts' policy reads nothing of Organizations.
  expect(allows('organizations:ListParents')).not.toBe('allowed');
});

const orgDocument = parsePolicyDocument(organizationPolicy());
const orgAllows = (action: string, resource = '*') =>
  evaluatePolicies({ identityPolicies: [{ source: 'org', document: orgDocument }], action, resource })
    .decision;

it('the Organization policy reads Organizations and assumes only the member role', () => {
  for (const action of ORGANIZATION_READ_ACTIONS)
    expect([action, orgAllows(action)]).toEqual([action, 'allowed']);
  expect(ORGANIZATION_READ_ACTIONS.every((a) => /^[a-z0-9]+:(Describe|Get|List)[A-Za-z]+$/.test(a))).toBe(
    true,
  );
  expect(orgAllows('sts:AssumeRole', 'arn:aws:iam::222222222222:role/SsmReadinessAuditorMember')).toBe(
    'allowed',
  );
  expect(
    orgAllows('sts:AssumeRole', 'arn:aws:iam::222222222222:role/OrganizationAccountAccessRole'),
  ).not.toBe('allowed');
  expect(JSON.parse(readFileSync(POLICY_FILES.organization, 'utf8'))).toEqual(organizationPolicy());
});

it.each<{ case: string; scope: CollectionScope }>([
  { case: 'a whole-region collection', scope: { kind: 'region' } },
  {
    case: 'an instance-scoped collection',
    scope: { kind: 'instances', instanceIds: ['i-00000000000000000', 'mi-00000000000000001'] },
  },
  { case: 'a VPC-scoped collection', scope: { kind: 'vpc', vpcId: 'vpc-0e0d00000000000b2' } },
  { case: 'a role-scoped collection', scope: { kind: 'role', roleName: 'app-04-role' } },
])('allows every call of $case', async ({ scope }) => {
  const { snapshot } = buildCollectionFleet({ instances: 40 });
  const fake = h.serve(snapshot);
  await h.collect(snapshot, { scope });
  const made = [...fake.calls.keys()].filter((action) => action !== 'sts:GetCallerIdentity');
  expect(made.length).toBeGreaterThan(5);
  for (const action of made) {
    expect([action, allows(action)]).toEqual([action, 'allowed']);
  }
});

it('does not allow settings other than the two the rules read', () => {
  expect(
    allows(
      'ssm:GetServiceSetting',
      'arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/opsitem/ssm-patchmanager',
    ),
  ).toBe('notAllowed');
});
