import {
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
import { AWS_MANAGED_POLICY_DOCUMENTS } from '../aws-managed-policies';
import type { CollectionContext } from './context';

/*
 * Why per-role calls and not GetAccountAuthorizationDetails (GAAD):
 * GAAD returns every user, group, role and policy of the account; its cost grows with the account's
 * whole IAM (hundreds of pages in a large account, and the AWS-managed policy filter alone is over a
 * thousand policies with every version), while an audit needs only the handful of roles its instances,
 * DHMC, hybrid nodes and activations use. Per-role calls cost a constant per distinct role/profile/policy
 * — independent of the instance count and of the rest of the account — and they are what a scoped audit
 * of one role or one instance needs anyway. The collector still emits GAAD's shape (RoleDetailList,
 * Policies), so a snapshot assembled with `aws iam get-account-authorization-details` is read the same way.
 *
 * The AWS managed policies the auditor carries verified copies of (AmazonSSMManagedInstanceCore,
 * AmazonSSMManagedEC2InstanceDefaultPolicy, AmazonEC2RoleforSSM; see aws-managed-policies.ts) are not
 * fetched: they are the same in every account, and the inventory uses the copies when a snapshot lacks them.
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
    (Marker) => iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker })),
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
  input: { profileArns: Iterable<string>; roleNames: Iterable<string> },
): Promise<IamSections> {
  const profiles: InstanceProfile[] = [];
  const profileNames = [...new Set([...input.profileArns].map(profileNameOf))];
  await Promise.all(
    profileNames.map(async (InstanceProfileName) => {
      const result = await ctx.call('iam:GetInstanceProfile', () =>
        iam.send(new GetInstanceProfileCommand({ InstanceProfileName })),
      );
      if (result.status === 'ok' && result.value.InstanceProfile) profiles.push(result.value.InstanceProfile);
    }),
  );

  // IAM role names are unique case-insensitively; the first spelling seen is the one fetched.
  const roleNames = new Map<string, string>();
  const addRole = (name: string | undefined) => {
    if (name && !roleNames.has(name.toLowerCase())) roleNames.set(name.toLowerCase(), name);
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
  const toFetch = [...managedArns].filter((arn) => AWS_MANAGED_POLICY_DOCUMENTS[arn] === undefined).sort();
  const policies = (await Promise.all(toFetch.map((arn) => collectManagedPolicy(iam, ctx, arn)))).filter(
    (p): p is Record<string, unknown> => p !== undefined,
  );
  roles.sort((a, b) => a.RoleName.localeCompare(b.RoleName));
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
    ctx.call('iam:GetRole', () => iam.send(new GetRoleCommand({ RoleName }))),
    ctx.pages(
      'iam:ListAttachedRolePolicies',
      (Marker) => iam.send(new ListAttachedRolePoliciesCommand({ RoleName, Marker })),
      (page) => page.AttachedPolicies,
      (page) => (page.IsTruncated ? page.Marker : undefined),
    ),
    ctx.pages(
      'iam:ListRolePolicies',
      (Marker) => iam.send(new ListRolePoliciesCommand({ RoleName, Marker })),
      (page) => page.PolicyNames,
      (page) => (page.IsTruncated ? page.Marker : undefined),
    ),
  ]);
  if (got.status !== 'ok' || !got.value.Role) return undefined;
  const role = got.value.Role;
  const inline = await Promise.all(
    (inlineNames ?? []).map(async (PolicyName) => {
      const result = await ctx.call('iam:GetRolePolicy', () =>
        iam.send(new GetRolePolicyCommand({ RoleName, PolicyName })),
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
  const policy = await ctx.call('iam:GetPolicy', () => iam.send(new GetPolicyCommand({ PolicyArn })));
  if (policy.status !== 'ok' || !policy.value.Policy?.DefaultVersionId) return undefined;
  const VersionId = policy.value.Policy.DefaultVersionId;
  const version = await ctx.call('iam:GetPolicyVersion', () =>
    iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId })),
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
