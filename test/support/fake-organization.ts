/**
 * A fake AWS Organization for the Organization-mode tests and the scale benchmark: aws-sdk-client-mock
 * handlers for Organizations (ListAccounts paged, the OU tree, SCPs), STS AssumeRole into each member
 * account, EC2 DescribeRegions of the management account, and the EC2/SSM/IAM/STS reads of every
 * member account-region, each answered from that account-region's snapshot (test/support/fake-aws.ts).
 *
 * Requests are routed by the credentials the client signs with: AssumeRole hands out an access key id
 * that encodes the member account (ASIAFAKE<account>), and the client's region says the region. So one
 * snapshot template per account-region is enough, built on first use and kept in a small LRU cache,
 * which keeps the memory of a 1,000-account simulation bounded.
 */
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { asSdkResponse, awsError, snapshotAnswers, type SnapshotAnswer } from './fake-aws';

export interface FakeOu {
  id: string;
  name: string;
  /** The parent OU or root id. */
  parent: string;
}

export interface FakeAccount {
  id: string;
  name?: string;
  /** The OU or root id the account sits in. */
  parent: string;
  state?: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';
}

export interface FakeScp {
  id: string;
  name: string;
  document: unknown;
  /** Root, OU or account ids the SCP is attached to. */
  targets: string[];
}

export interface FakeOrganizationSpec {
  organizationId?: string;
  managementAccountId?: string;
  rootId?: string;
  ous?: FakeOu[];
  accounts: FakeAccount[];
  scps?: FakeScp[];
  /** The regions DescribeRegions lists as enabled for the management account. */
  enabledRegions: string[];
  /** ListAccounts page size (the real API pages at 20). */
  pageSize?: number;
  /** Accounts whose member role refuses the auditor (AccessDenied on AssumeRole). */
  assumeDenied?: string[];
  /** `account/region` pairs where the region is not enabled for the account. */
  regionDisabled?: string[];
  /** The snapshot an account-region serves (its accountId is the account's). */
  snapshotFor(accountId: string, region: string): SnapshotInput;
  /** Account-regions whose answers are kept built (default 64). */
  cacheSize?: number;
}

export interface FakeOrganization {
  /** Requests per action, all accounts together. */
  calls: Map<string, number>;
  /** Requests per `account/region` (member account reads only; AssumeRole is counted in `calls`). */
  callsByJob: Map<string, number>;
  totalCalls(): number;
  /** AssumeRole requests per account. */
  assumeRoleCalls: Map<string, number>;
  mocks: Record<'ec2' | 'ssm' | 'iam' | 'sts' | 'organizations', AwsStub<never, never, never>>;
  restore(): void;
}

export const DEFAULT_ORGANIZATION_ID = 'o-exampleorgid';
export const DEFAULT_MANAGEMENT_ACCOUNT = '999999999999';
export const MEMBER_KEY_PREFIX = 'ASIAFAKE';

const deniedAssume = (accountId: string, roleName: string) =>
  awsError(
    'AccessDenied',
    `User: arn:aws:sts::${DEFAULT_MANAGEMENT_ACCOUNT}:assumed-role/auditor/session is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${accountId}:role/${roleName}`,
    403,
  );

/** What EC2 and SSM answer for a region the account has not opted into. */
function regionDisabledError(service: SnapshotAnswer['service']): Error {
  if (service === 'ec2')
    return awsError(
      'OptInRequired',
      'You are not subscribed to this service. Please go to http://aws.amazon.com to subscribe.',
      401,
    );
  return awsError(
    'UnrecognizedClientException',
    'The security token included in the request is invalid.',
    400,
  );
}

/** Offset pagination with an opaque token. */
function pageOf<T>(
  items: readonly T[],
  token: string | undefined,
  size: number,
): { items: T[]; next?: string } {
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(String(end)).toString('base64') : undefined,
  };
}

export function fakeOrganization(spec: FakeOrganizationSpec): FakeOrganization {
  const organizationId = spec.organizationId ?? DEFAULT_ORGANIZATION_ID;
  const managementAccountId = spec.managementAccountId ?? DEFAULT_MANAGEMENT_ACCOUNT;
  const rootId = spec.rootId ?? 'r-root';
  const pageSize = spec.pageSize ?? 20;
  const denied = new Set(spec.assumeDenied ?? []);
  const disabled = new Set(spec.regionDisabled ?? []);
  const cacheSize = spec.cacheSize ?? 64;
  const calls = new Map<string, number>();
  const callsByJob = new Map<string, number>();
  const assumeRoleCalls = new Map<string, number>();
  const count = (action: string) => calls.set(action, (calls.get(action) ?? 0) + 1);
  const mocks = {
    ec2: mockClient(EC2Client) as unknown as AwsStub<never, never, never>,
    ssm: mockClient(SSMClient) as unknown as AwsStub<never, never, never>,
    iam: mockClient(IAMClient) as unknown as AwsStub<never, never, never>,
    sts: mockClient(STSClient) as unknown as AwsStub<never, never, never>,
    organizations: mockClient(OrganizationsClient) as unknown as AwsStub<never, never, never>,
  };
  const on = <I>(
    mock: AwsStub<never, never, never>,
    command: unknown,
    action: string,
    answer: (input: I) => unknown,
  ) =>
    mock.on(command as never).callsFake(async (input: I) => {
      count(action);
      return asSdkResponse(answer(input)) as never;
    });

  // ------------------------------------------------------------ Organizations (management account)
  const ous = spec.ous ?? [];
  const accountsById = new Map(spec.accounts.map((a) => [a.id, a]));
  const ouById = new Map(ous.map((ou) => [ou.id, ou]));
  const typeOf = (id: string) =>
    id === rootId ? 'ROOT' : ouById.has(id) ? 'ORGANIZATIONAL_UNIT' : 'ACCOUNT';
  const accountShape = (a: FakeAccount) => ({
    Id: a.id,
    Arn: `arn:aws:organizations::${managementAccountId}:account/${organizationId}/${a.id}`,
    Name: a.name ?? `account-${a.id}`,
    Email: `aws+${a.id}@example.com`,
    State: a.state ?? 'ACTIVE',
    Status: (a.state ?? 'ACTIVE') === 'ACTIVE' ? 'ACTIVE' : 'SUSPENDED',
  });
  on(mocks.organizations, DescribeOrganizationCommand, 'organizations:DescribeOrganization', () => ({
    Organization: { Id: organizationId, MasterAccountId: managementAccountId, FeatureSet: 'ALL' },
  }));
  on(mocks.organizations, ListRootsCommand, 'organizations:ListRoots', () => ({
    Roots: [
      {
        Id: rootId,
        Name: 'Root',
        Arn: `arn:aws:organizations::${managementAccountId}:root/${organizationId}/${rootId}`,
      },
    ],
  }));
  on(
    mocks.organizations,
    ListAccountsCommand,
    'organizations:ListAccounts',
    (input: { NextToken?: string }) => {
      const { items, next } = pageOf(spec.accounts, input.NextToken, pageSize);
      return { Accounts: items.map(accountShape), NextToken: next };
    },
  );
  on(
    mocks.organizations,
    ListAccountsForParentCommand,
    'organizations:ListAccountsForParent',
    (input: { ParentId?: string; NextToken?: string }) => {
      const { items, next } = pageOf(
        spec.accounts.filter((a) => a.parent === input.ParentId),
        input.NextToken,
        pageSize,
      );
      return { Accounts: items.map(accountShape), NextToken: next };
    },
  );
  on(
    mocks.organizations,
    ListOrganizationalUnitsForParentCommand,
    'organizations:ListOrganizationalUnitsForParent',
    (input: { ParentId?: string; NextToken?: string }) => {
      const { items, next } = pageOf(
        ous.filter((ou) => ou.parent === input.ParentId),
        input.NextToken,
        pageSize,
      );
      return { OrganizationalUnits: items.map((ou) => ({ Id: ou.id, Name: ou.name })), NextToken: next };
    },
  );
  on(mocks.organizations, ListParentsCommand, 'organizations:ListParents', (input: { ChildId?: string }) => {
    const id = String(input.ChildId);
    const parent = accountsById.get(id)?.parent ?? ouById.get(id)?.parent;
    if (!parent) throw awsError('ChildNotFoundException', `${id} not found`);
    return { Parents: [{ Id: parent, Type: typeOf(parent) }] };
  });
  const scps = spec.scps ?? [];
  on(
    mocks.organizations,
    ListPoliciesForTargetCommand,
    'organizations:ListPoliciesForTarget',
    (input: { TargetId?: string }) => ({
      Policies: scps
        .filter((p) => p.targets.includes(String(input.TargetId)))
        .map((p) => ({ Id: p.id, Name: p.name, Type: 'SERVICE_CONTROL_POLICY', AwsManaged: false })),
    }),
  );
  on(
    mocks.organizations,
    DescribePolicyCommand,
    'organizations:DescribePolicy',
    (input: { PolicyId?: string }) => {
      const scp = scps.find((p) => p.id === input.PolicyId);
      if (!scp) throw awsError('PolicyNotFoundException', `${input.PolicyId} not found`);
      return {
        Policy: {
          PolicySummary: { Id: scp.id, Name: scp.name, Type: 'SERVICE_CONTROL_POLICY', AwsManaged: false },
          Content: JSON.stringify(scp.document),
        },
      };
    },
  );

  // ------------------------------------------------------------ management account: regions, STS
  mocks.ec2.on(DescribeRegionsCommand as never).callsFake(async () => {
    count('ec2:DescribeRegions');
    return {
      Regions: spec.enabledRegions.map((r) => ({
        RegionName: r,
        Endpoint: `ec2.${r}.amazonaws.com`,
        OptInStatus: 'opt-in-not-required',
      })),
    } as never;
  });
  mocks.sts.on(AssumeRoleCommand as never).callsFake(async (input: { RoleArn?: string }) => {
    count('sts:AssumeRole');
    const match = /^arn:[\w-]+:iam::(\d{12}):role\/(.+)$/.exec(String(input.RoleArn));
    if (!match) throw awsError('ValidationError', `invalid RoleArn ${input.RoleArn}`);
    const [, accountId, roleName] = match as unknown as [string, string, string];
    assumeRoleCalls.set(accountId, (assumeRoleCalls.get(accountId) ?? 0) + 1);
    const account = accountsById.get(accountId);
    if (!account || denied.has(accountId)) throw deniedAssume(accountId, roleName);
    return {
      Credentials: {
        AccessKeyId: `${MEMBER_KEY_PREFIX}${accountId}`,
        SecretAccessKey: 'fake-secret',
        SessionToken: 'fake-session',
        // Far ahead of any clock a test injects: the credentials stay valid for the whole run.
        Expiration: new Date('2100-01-01T00:00:00Z'),
      },
      AssumedRoleUser: { Arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/ssm-readiness-auditor` },
    } as never;
  });

  // ------------------------------------------------------------ member account-regions, routed
  type Table = Map<unknown, SnapshotAnswer>;
  const cache = new Map<string, Table>();
  const tableFor = (accountId: string, region: string): Table => {
    const key = `${accountId}/${region}`;
    let table = cache.get(key);
    if (table) {
      // Most recently used last.
      cache.delete(key);
      cache.set(key, table);
      return table;
    }
    table = new Map(snapshotAnswers(spec.snapshotFor(accountId, region)).map((a) => [a.command, a]));
    cache.set(key, table);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return table;
  };
  const template = snapshotAnswers({
    schemaVersion: 1,
    accountId: managementAccountId,
    region: 'us-east-1',
  } as SnapshotInput);
  type ConfiguredClient = {
    config: { credentials(): Promise<{ accessKeyId: string }>; region(): Promise<string> };
  };
  for (const { service, command, action } of template) {
    mocks[service].on(command as never).callsFake(async (input: unknown, getClient: () => unknown) => {
      count(action);
      const client = getClient() as ConfiguredClient;
      const [credentials, region] = await Promise.all([client.config.credentials(), client.config.region()]);
      const key = credentials.accessKeyId.startsWith(MEMBER_KEY_PREFIX)
        ? credentials.accessKeyId.slice(MEMBER_KEY_PREFIX.length)
        : managementAccountId;
      const job = `${key}/${region}`;
      callsByJob.set(job, (callsByJob.get(job) ?? 0) + 1);
      // IAM is global: it answers whatever the region; EC2 and SSM refuse a region not enabled.
      if (disabled.has(job) && service !== 'iam' && service !== 'sts') throw regionDisabledError(service);
      const answer = tableFor(key, region).get(command);
      if (!answer) throw awsError('InvalidAction', `${action} is not served by this fake`);
      return asSdkResponse(answer.answer(input as never)) as never;
    });
  }

  return {
    calls,
    callsByJob,
    assumeRoleCalls,
    totalCalls: () => [...calls.values()].reduce((a, b) => a + b, 0),
    mocks,
    restore() {
      for (const mock of Object.values(mocks)) mock.restore();
    },
  };
}

/** A snapshot built for account 123456789012 (the builders' default), re-targeted at another account. */
export function retarget(templateJson: string, accountId: string, region: string): SnapshotInput {
  const doc = JSON.parse(templateJson.split('123456789012').join(accountId)) as SnapshotInput;
  return { ...doc, accountId, region };
}
