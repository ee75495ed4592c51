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

export function partitionOf(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

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
      provider = this.cached(accountId);
      this.providers.set(accountId, provider);
    }
    return provider;
  }

  private cached(accountId: string): AwsCredentialIdentityProvider {
    const now = () => (this.options.clock ?? (() => new Date()))().getTime();
    let current: AwsCredentialIdentity | undefined;
    let pending: Promise<AwsCredentialIdentity> | undefined;
    return async () => {
      if (current?.expiration && current.expiration.getTime() - RENEW_BEFORE_MS > now()) return current;
      pending ??= this.assume(accountId).finally(() => {
        pending = undefined;
      });
      current = await pending;
      return current;
    };
  }

  private async assume(accountId: string): Promise<AwsCredentialIdentity> {
    this.assumed += 1;
    const out = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.roleArn(accountId),
        RoleSessionName: this.options.sessionName ?? 'ssm-readiness-auditor',
        ...(this.role.externalId ? { ExternalId: this.role.externalId } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole returned no credentials for ${accountId}`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }
}
