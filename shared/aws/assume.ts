import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The read-only member role the auditor assumes in each account of an Organization (DESIGN §7), and the
 * credentials it gets: one AssumeRole per account for as long as they are valid, shared by every region
 * audited with them (the credentials STS returns are valid in every enabled region of the account).
 */

export interface MemberRole {
  /** The role's name, the same in every account (the StackSet creates it). */
  roleName: string;
  /** For standalone accounts whose trust policy requires sts:ExternalId. */
  externalId?: string;
}

export const DEFAULT_MEMBER_ROLE = 'SsmReadinessAuditorMember';

/** Credentials are renewed this long before they expire, so a call never starts with stale ones. */
export const RENEW_BEFORE_MS = 5 * 60_000;

export function memberRoleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

export { partitionOf } from '../knowledge/partition';

/**
 * One credentials provider per account, each assuming the member role when first asked and again only
 * when its credentials are about to expire. A failed AssumeRole is not cached: the error reaches the
 * caller (the job reports it), and the next job asks again.
 */
export class MemberCredentials {
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();
  /** AssumeRole requests sent (the benchmark counts them). */
  assumed = 0;

  constructor(
    private readonly sts: STSClient,
    private readonly role: MemberRole,
    private readonly options: { partition: string; sessionName?: string; clock?: () => Date } = {
      partition: 'aws',
    },
  ) {}

  roleArn(accountId: string): string {
    return memberRoleArn(this.options.partition, accountId, this.role.roleName);
  }

  forAccount(accountId: string): AwsCredentialIdentityProvider {
    let provider = this.providers.get(accountId);
    if (!provider) {
      provider = assumedRole(this.sts, this.roleArn(accountId), {
        ...this.options,
        ...(this.role.externalId ? { externalId: this.role.externalId } : {}),
        onAssume: () => {
          this.assumed += 1;
        },
      });
      this.providers.set(accountId, provider);
    }
    return provider;
  }
}

/**
 * Credentials of one role, assumed when first asked and again only when about to expire (a failed
 * AssumeRole is not cached). Also used for a management-account role to read Organizations through.
 */
export function assumedRole(
  sts: STSClient,
  roleArn: string,
  options: { externalId?: string; sessionName?: string; clock?: () => Date; onAssume?: () => void } = {},
): AwsCredentialIdentityProvider {
  const now = () => (options.clock ?? (() => new Date()))().getTime();
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    options.onAssume?.();
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: options.sessionName ?? 'ssm-readiness-auditor',
        ...(options.externalId ? { ExternalId: options.externalId } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole returned no credentials for ${roleArn}`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };
  return async () => {
    if (current?.expiration && current.expiration.getTime() - RENEW_BEFORE_MS > now()) return current;
    pending ??= assume().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };
}
