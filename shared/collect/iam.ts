import {
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  type IAMClient,
  type InstanceProfile,
} from '@aws-sdk/client-iam';
import { AWS_MANAGED_POLICY_DOCUMENTS } from '../knowledge/aws-managed-policies';
import type { CollectionContext } from './context';

/*
 * GetAccountAuthorizationDetails (GAAD) or per-role calls? Both, by scope:
 * - A whole-region audit reads GAAD filtered to roles and customer managed policies. Its cost grows with
 *   the account's roles and policies (a page holds up to 1,000 entries), never with the instance count,
 *   and it is the only way to see IAM the instances do not use: the account check for policies copied
 *   from seed 002 with the wrong DHMC setting name looks at every role and customer managed policy.
 *   Users and groups are left out (they can be most of a large account's IAM and no rule reads them), as
 *   are AWS managed policies (over a thousand, with every version).
 * - A scoped audit (one instance, one VPC, one role — the event-driven case) fetches only the roles it
 *   uses with per-role calls, a constant handful per distinct profile, role and policy, so re-checking
 *   one instance never costs a walk over the account's whole IAM.
 * Either way the snapshot holds GAAD's shape (RoleDetailList, Policies), so a snapshot assembled with
 * `aws iam get-account-authorization-details` is read the same way.
 *
 * AWS managed policies that roles in use attach are fetched with GetPolicy + GetPolicyVersion, except
 * the three the auditor carries verified copies of (AmazonSSMManagedInstanceCore,
 * AmazonSSMManagedEC2InstanceDefaultPolicy, AmazonEC2RoleforSSM; aws-managed-policies.ts): those are the
 * same in every account, and the inventory uses the copies when a snapshot lacks them.
 */

export interface IamSections {
  RoleDetailList: Record<string, unknown>[];
  Policies: Record<string, unknown>[];
}

/** `arn:aws:iam::123456789012:instance-profile/path/Name` → `Name` (GetInstanceProfile takes the bare name). */
export const profileNameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/**
 * Instance profiles that contain the role (role-scoped audits): undefined when the call failed, so the
 * caller can fall back to a wider scope instead of silently auditing nothing.
 */
export function listInstanceProfilesForRole(
  iam: IAMClient,
  ctx: CollectionContext,
  roleName: string,
): Promise<InstanceProfile[] | undefined> {
  return ctx.pages(
    'iam:ListInstanceProfilesForRole',
    (Marker, o) => iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker }), o),
    (page) => page.InstanceProfiles,
    (page) => (page.IsTruncated ? page.Marker : undefined),
  );
}

/**
 * Every role, inline policy and managed policy document that the given instance profiles and role names
 * lead to, each fetched once. An entity that does not exist (NoSuchEntity) is left out, so the rules
 * report "does not exist"; any other failure is recorded in the context and makes the IAM section
 * unavailable (ERROR findings naming the action), never a guess.
 */
export async function collectIam(
  iam: IAMClient,
  ctx: CollectionContext,
  input: {
    profileArns: Iterable<string>;
    roleNames: Iterable<string>;
    /** What an earlier pass of this run already fetched: not fetched again, and part of the result. */
    known?: IamSections;
  },
): Promise<IamSections> {
  const known = input.known ?? { RoleDetailList: [], Policies: [] };
  const knownRoles = new Set(known.RoleDetailList.map((r) => String(r.RoleName).toLowerCase()));
  const knownPolicies = new Set(known.Policies.map((p) => String(p.Arn)));
  const profiles: InstanceProfile[] = [];
  const profileNames = [...new Set([...input.profileArns].map(profileNameOf))];
  await Promise.all(
    profileNames.map(async (InstanceProfileName) => {
      const result = await ctx.call('iam:GetInstanceProfile', (o) =>
        iam.send(new GetInstanceProfileCommand({ InstanceProfileName }), o),
      );
      if (result.status === 'ok' && result.value.InstanceProfile) profiles.push(result.value.InstanceProfile);
    }),
  );

  // IAM role names are unique case-insensitively; the first spelling seen is the one fetched.
  const roleNames = new Map<string, string>();
  const addRole = (name: string | undefined) => {
    const lower = name?.toLowerCase();
    if (name && lower && !roleNames.has(lower) && !knownRoles.has(lower)) roleNames.set(lower, name);
  };
  for (const profile of profiles) for (const role of profile.Roles ?? []) addRole(role.RoleName);
  for (const name of input.roleNames) addRole(name);

  const roles = (
    await Promise.all([...roleNames.values()].map((RoleName) => collectRole(iam, ctx, RoleName, profiles)))
  ).filter((r): r is RoleDetail => r !== undefined);

  const managedArns = new Set<string>();
  for (const role of roles) {
    for (const attached of role.AttachedManagedPolicies) managedArns.add(attached.PolicyArn);
    if (role.PermissionsBoundary) managedArns.add(role.PermissionsBoundary.PermissionsBoundaryArn);
  }
  const toFetch = [...managedArns]
    .filter((arn) => AWS_MANAGED_POLICY_DOCUMENTS[arn] === undefined && !knownPolicies.has(arn))
    .sort();
  const policies = (await Promise.all(toFetch.map((arn) => collectManagedPolicy(iam, ctx, arn)))).filter(
    (p): p is Record<string, unknown> => p !== undefined,
  );
  roles.sort((a, b) => a.RoleName.localeCompare(b.RoleName));
  return {
    RoleDetailList: [...known.RoleDetailList, ...(roles as unknown as Record<string, unknown>[])],
    Policies: [...known.Policies, ...policies],
  };
}

/** GAAD page size: the API's maximum. */
export const GAAD_PAGE = 1000;

/**
 * Whole-account IAM for a region audit: every role (with its profiles, inline and attached policies and
 * boundary) and every customer managed policy from GAAD, plus the AWS managed policies that the roles in
 * use attach. `inUse` names the instance profiles and roles the audit's resources use.
 */
export async function collectIamAccount(
  iam: IAMClient,
  ctx: CollectionContext,
  inUse: { profileArns: Iterable<string>; roleNames: Iterable<string> },
): Promise<IamSections> {
  const entries = await ctx.pages(
    'iam:GetAccountAuthorizationDetails',
    (Marker, o) =>
      iam.send(
        new GetAccountAuthorizationDetailsCommand({
          Filter: ['Role', 'LocalManagedPolicy'],
          MaxItems: GAAD_PAGE,
          Marker,
        }),
        o,
      ),
    (page) => [
      ...(page.RoleDetailList ?? []).map((role) => ({ role })),
      ...(page.Policies ?? []).map((policy) => ({ policy })),
    ],
    (page) => (page.IsTruncated ? page.Marker : undefined),
  );
  if (!entries) return { RoleDetailList: [], Policies: [] };
  const roles = entries.flatMap((e) => ('role' in e ? [e.role] : []));
  // Only the default version is evaluated; older versions would only make the snapshot larger.
  const policies: Record<string, unknown>[] = entries.flatMap((e) =>
    'policy' in e
      ? [
          {
            ...e.policy,
            PolicyVersionList: (e.policy.PolicyVersionList ?? []).filter(
              (v) => v.IsDefaultVersion || v.VersionId === e.policy.DefaultVersionId,
            ),
          },
        ]
      : [],
  );

  const profileArns = new Set(inUse.profileArns);
  const roleNames = new Set([...inUse.roleNames].map((n) => n.toLowerCase()));
  const known = new Set(policies.map((p) => String(p.Arn)));
  const awsManaged = new Set<string>();
  for (const role of roles) {
    const used =
      roleNames.has((role.RoleName ?? '').toLowerCase()) ||
      (role.InstanceProfileList ?? []).some((p) => p.Arn && profileArns.has(p.Arn));
    if (!used) continue;
    const arns = (role.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn);
    if (role.PermissionsBoundary?.PermissionsBoundaryArn)
      arns.push(role.PermissionsBoundary.PermissionsBoundaryArn);
    for (const arn of arns) {
      if (arn && !known.has(arn) && AWS_MANAGED_POLICY_DOCUMENTS[arn] === undefined) awsManaged.add(arn);
    }
  }
  const fetched = await Promise.all([...awsManaged].sort().map((arn) => collectManagedPolicy(iam, ctx, arn)));
  for (const policy of fetched) if (policy) policies.push(policy);
  return { RoleDetailList: roles as unknown as Record<string, unknown>[], Policies: policies };
}

interface RoleDetail {
  RoleName: string;
  Arn: string;
  Path?: string;
  RoleId?: string;
  AssumeRolePolicyDocument?: string;
  InstanceProfileList: {
    InstanceProfileName: string;
    Arn: string;
    InstanceProfileId?: string;
    Path?: string;
  }[];
  RolePolicyList: { PolicyName: string; PolicyDocument: string }[];
  AttachedManagedPolicies: { PolicyName?: string; PolicyArn: string }[];
  PermissionsBoundary?: { PermissionsBoundaryArn: string; PermissionsBoundaryType?: string };
}

async function collectRole(
  iam: IAMClient,
  ctx: CollectionContext,
  RoleName: string,
  profiles: readonly InstanceProfile[],
): Promise<RoleDetail | undefined> {
  const [got, attached, inlineNames] = await Promise.all([
    ctx.call('iam:GetRole', (o) => iam.send(new GetRoleCommand({ RoleName }), o)),
    ctx.pages(
      'iam:ListAttachedRolePolicies',
      (Marker, o) => iam.send(new ListAttachedRolePoliciesCommand({ RoleName, Marker }), o),
      (page) => page.AttachedPolicies,
      (page) => (page.IsTruncated ? page.Marker : undefined),
    ),
    ctx.pages(
      'iam:ListRolePolicies',
      (Marker, o) => iam.send(new ListRolePoliciesCommand({ RoleName, Marker }), o),
      (page) => page.PolicyNames,
      (page) => (page.IsTruncated ? page.Marker : undefined),
    ),
  ]);
  if (got.status !== 'ok' || !got.value.Role) return undefined;
  const role = got.value.Role;
  const inline = await Promise.all(
    (inlineNames ?? []).map(async (PolicyName) => {
      const result = await ctx.call('iam:GetRolePolicy', (o) =>
        iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }), o),
      );
      return result.status === 'ok' && result.value.PolicyDocument
        ? { PolicyName, PolicyDocument: result.value.PolicyDocument }
        : undefined;
    }),
  );
  const lower = (role.RoleName ?? RoleName).toLowerCase();
  return {
    RoleName: role.RoleName ?? RoleName,
    Arn: role.Arn ?? '',
    Path: role.Path,
    RoleId: role.RoleId,
    // GetRole returns the trust policy URL-encoded, as GetAccountAuthorizationDetails does.
    AssumeRolePolicyDocument: role.AssumeRolePolicyDocument,
    InstanceProfileList: profiles
      .filter((p) => (p.Roles ?? []).some((r) => r.RoleName?.toLowerCase() === lower))
      .map((p) => ({
        InstanceProfileName: p.InstanceProfileName ?? '',
        Arn: p.Arn ?? '',
        InstanceProfileId: p.InstanceProfileId,
        Path: p.Path,
      })),
    RolePolicyList: inline.filter(
      (p): p is { PolicyName: string; PolicyDocument: string } => p !== undefined,
    ),
    AttachedManagedPolicies: (attached ?? [])
      .filter((p) => p.PolicyArn)
      .map((p) => ({ PolicyName: p.PolicyName, PolicyArn: p.PolicyArn! })),
    ...(role.PermissionsBoundary?.PermissionsBoundaryArn
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryArn: role.PermissionsBoundary.PermissionsBoundaryArn,
            PermissionsBoundaryType: role.PermissionsBoundary.PermissionsBoundaryType,
          },
        }
      : {}),
  };
}

/** GetPolicy for the default version id, then that version's document: GAAD's Policies entry shape. */
async function collectManagedPolicy(
  iam: IAMClient,
  ctx: CollectionContext,
  PolicyArn: string,
): Promise<Record<string, unknown> | undefined> {
  const policy = await ctx.call('iam:GetPolicy', (o) => iam.send(new GetPolicyCommand({ PolicyArn }), o));
  if (policy.status !== 'ok' || !policy.value.Policy?.DefaultVersionId) return undefined;
  const VersionId = policy.value.Policy.DefaultVersionId;
  const version = await ctx.call('iam:GetPolicyVersion', (o) =>
    iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId }), o),
  );
  if (version.status !== 'ok' || !version.value.PolicyVersion?.Document) return undefined;
  return {
    PolicyName: policy.value.Policy.PolicyName,
    Arn: PolicyArn,
    DefaultVersionId: VersionId,
    PolicyVersionList: [
      { Document: version.value.PolicyVersion.Document, VersionId, IsDefaultVersion: true },
    ],
  };
}
