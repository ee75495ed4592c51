import { auditFailedFinding } from '../../shared/pipeline/org';
import { parseLambdaEnv } from '../../functions/lib/runtime';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { MemberCredentials } from '../../shared/aws/assume';
import { OrganizationReader } from '../../shared/collect/organization';
import { deniedError } from '../support/fake-aws';

const org = mockClient(OrganizationsClient);
const sts = mockClient(STSClient);
afterAll(() => {
  org.restore();
  sts.restore();
});

describe('account selection', () => {
  beforeEach(() => {
    org.reset();
    org.on(ListAccountsCommand).resolves({
      Accounts: ['111111111111', '222222222222', '333333333333', '444444444444'].map((Id) => ({
        Id,
        State: 'ACTIVE',
      })),
    });
    // r → ou-a (111, ou-a1 → 222), r → ou-b (333); 444 directly under the root.
    const children: Record<string, { accounts: string[]; ous: string[] }> = {
      r: { accounts: ['444444444444'], ous: ['ou-a', 'ou-b'] },
      'ou-a': { accounts: ['111111111111'], ous: ['ou-a1'] },
      'ou-a1': { accounts: ['222222222222'], ous: [] },
      'ou-b': { accounts: ['333333333333'], ous: [] },
    };
    for (const [parent, c] of Object.entries(children)) {
      org
        .on(ListAccountsForParentCommand, { ParentId: parent })
        .resolves({ Accounts: c.accounts.map((Id) => ({ Id })) });
      org
        .on(ListOrganizationalUnitsForParentCommand, { ParentId: parent })
        .resolves({ OrganizationalUnits: c.ous.map((Id) => ({ Id })) });
    }
  });
  const ids = async (selection: Parameters<OrganizationReader['listAccounts']>[0]) =>
    (
      await new OrganizationReader(new OrganizationsClient({ region: 'us-east-1' })).listAccounts(selection)
    ).accounts.map((a) => a.id);

  it.each([
    { selection: {}, expected: ['111111111111', '222222222222', '333333333333', '444444444444'] },
    { selection: { includeOus: ['ou-a'] }, expected: ['111111111111', '222222222222'] },
    { selection: { excludeOus: ['ou-a1'] }, expected: ['111111111111', '333333333333', '444444444444'] },
    { selection: { includeOus: ['ou-a'], excludeAccounts: ['111111111111'] }, expected: ['222222222222'] },
    { selection: { accounts: ['999999999999'] }, expected: ['999999999999'] },
  ])('$selection → $expected', async ({ selection, expected }) => {
    expect(await ids(selection)).toEqual(expected);
  });

  it('a failed OU listing makes the listing incomplete (nothing is closed on its word)', async () => {
    org
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'ou-a' })
      .rejects(deniedError('organizations:ListOrganizationalUnitsForParent'));
    const listing = await new OrganizationReader(
      new OrganizationsClient({ region: 'us-east-1' }),
    ).listAccounts({ excludeOus: ['ou-a'] });
    expect(listing.complete).toBe(false);
    expect(Object.keys(listing.failures)).toContain('organizations:ListOrganizationalUnitsForParent');
  });
});

describe('member credentials', () => {
  it('assume the role once while valid, again 5 minutes before expiry; a denial is not cached', async () => {
    let now = new Date('2026-11-23T10:00:00Z');
    let calls = 0;
    sts.reset();
    sts.on(AssumeRoleCommand).callsFake(() => {
      calls++;
      if (calls === 1) throw deniedError('sts:AssumeRole');
      return {
        Credentials: {
          AccessKeyId: `AK${calls}`,
          SecretAccessKey: 's',
          SessionToken: 't',
          Expiration: new Date(now.getTime() + 3_600_000),
        },
      };
    });
    const creds = new MemberCredentials(
      new STSClient({ region: 'eu-west-1' }),
      { roleName: 'Member', externalId: 'ext-1' },
      { partition: 'aws', clock: () => now },
    );
    const provider = creds.forAccount('123456789012');
    await expect(provider()).rejects.toThrow();
    expect((await provider()).accessKeyId).toBe('AK2');
    now = new Date(now.getTime() + 50 * 60_000);
    expect((await provider()).accessKeyId).toBe('AK2');
    now = new Date(now.getTime() + 6 * 60_000);
    expect((await provider()).accessKeyId).toBe('AK3');
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({
      RoleArn: 'arn:aws:iam::123456789012:role/Member',
      ExternalId: 'ext-1',
    });
  });
});

describe('Organization-mode environment', () => {
  const base = { FINDINGS_TABLE: 'findings', AWS_REGION: 'eu-west-1' };
  it('reads the selection, the member role and the management role', () => {
    const env = parseLambdaEnv({
      ...base,
      ORG_ACCOUNTS: '111111111111, 222222222222, 111111111111',
      ORG_EXCLUDE_OUS: 'ou-ab12-11111111',
      ORG_MEMBER_ROLE_NAME: 'AuditMember',
      ORG_MANAGEMENT_ROLE_ARN: 'arn:aws:iam::999999999999:role/OrgReader',
    });
    expect(env.org).toEqual({
      memberRoleName: 'AuditMember',
      managementRoleArn: 'arn:aws:iam::999999999999:role/OrgReader',
      selection: {
        accounts: ['111111111111', '222222222222'],
        includeOus: [],
        excludeAccounts: [],
        excludeOus: ['ou-ab12-11111111'],
      },
      maxReceives: 3,
      plannerConcurrency: 8,
    });
    expect(env.regionsConfigured).toBe(false);
  });
  it('rejects an account list with a malformed id (it would never be counted)', () => {
    expect(() => parseLambdaEnv({ ...base, ORG_ACCOUNTS: '111111111111,12345' })).toThrow(
      'invalid environment ORG_ACCOUNTS: ORG_ACCOUNTS must be comma-separated 12-digit account ids',
    );
  });
  it('names a malformed management role ARN', () => {
    expect(() => parseLambdaEnv({ ...base, ORG_MANAGEMENT_ROLE_ARN: 'OrgReader' })).toThrow(
      'invalid environment ORG_MANAGEMENT_ROLE_ARN: ORG_MANAGEMENT_ROLE_ARN must be an IAM role ARN',
    );
  });
});

describe('an account-region whose audit failed as a whole', () => {
  it('is one ERROR finding naming the account, the region and the failure', () => {
    const f = auditFailedFinding(
      { accountId: '123456789012', region: 'eu-west-1' },
      'ECONNRESET',
      '2026-11-23T10:00:00.000Z',
    );
    expect(f).toMatchObject({
      resourceId: '123456789012:audit',
      resourceType: 'Account',
      status: 'ERROR',
      reason: 'AUDIT_FAILED',
    });
    expect(f.message).toBe(
      'Cannot audit account 123456789012 in eu-west-1: the collection failed (ECONNRESET); none of its nodes were evaluated.',
    );
  });
});
