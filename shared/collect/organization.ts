import { DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListAccountsForParentCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  type Account,
  type OrganizationsClient,
  type Policy,
  type PolicySummary,
} from '@aws-sdk/client-organizations';
import { describeFailure, mapLimit, withBackoff, type BackoffOptions, type CallFailure } from '../aws/faults';

/**
 * Organization mode's reads of AWS Organizations (DESIGN §7), from the management or delegated
 * administrator account: which accounts to audit, and the service control policies in force for each
 * (the chain root → OUs → account with the SCPs attached at each level and their documents). A failing
 * call never aborts: it is recorded, the account list is marked incomplete (so no account's findings
 * are closed on its word), and an SCP the auditor could not read leaves the snapshot's `organizations`
 * section incomplete (the rules then report ERROR, never a guess).
 */

export interface AccountSelection {
  /** A static list (standalone accounts, or a fixed subset): Organizations is not asked. */
  accounts?: readonly string[];
  /** Only accounts under these OUs (or roots), at any depth. */
  includeOus?: readonly string[];
  excludeAccounts?: readonly string[];
  /** Not the accounts under these OUs, at any depth. */
  excludeOus?: readonly string[];
}

export interface OrgAccount {
  id: string;
  name?: string;
}

export interface AccountListing {
  /** ACTIVE accounts selected for audit. */
  accounts: OrgAccount[];
  /** Listed but not ACTIVE (suspended, closing, closed): their findings are closed when `complete`. */
  inactive: OrgAccount[];
  /** Every page of every listing was read: an account missing from it really is gone. */
  complete: boolean;
  /**
   * Every ACTIVE account of the Organization, selected or not (undefined for a static list): an
   * account missing from it has left the Organization or stopped being ACTIVE; one merely excluded by
   * the selection has not.
   */
  allActive?: Set<string>;
  /** The calls that failed, by IAM action. */
  failures: Record<string, CallFailure>;
  organizationId?: string;
  managementAccountId?: string;
}

/** The `organizations` section of one account's snapshot (DESIGN §2, shared/snapshot/schema.ts). */
export interface OrganizationsDocument {
  OrganizationId?: string;
  ManagementAccountId?: string;
  TargetChain: {
    TargetId: string;
    Type: 'ROOT' | 'ORGANIZATIONAL_UNIT' | 'ACCOUNT';
    Name?: string;
    /** Absent when ListPoliciesForTarget failed for this target. */
    Policies?: PolicySummary[];
  }[];
  Policies: Policy[];
}

export interface AccountScps {
  section: OrganizationsDocument;
  /** Failed calls to put in the snapshot's `calls` (the section is then incomplete). */
  calls: Record<string, CallFailure>;
}

export interface OrgReaderOptions {
  backoff?: BackoffOptions;
  /** Parallel Organizations requests (its API allows a few per second per account). Default 4. */
  concurrency?: number;
}

const SCP = 'SERVICE_CONTROL_POLICY';

/** Reads Organizations once per run, caching every target, parent and policy it has seen. */
export class OrganizationReader {
  private readonly parents = new Map<string, Promise<{ Id: string; Type: string } | undefined>>();
  private readonly attached = new Map<string, Promise<PolicySummary[] | undefined>>();
  private readonly documents = new Map<string, Promise<Policy | undefined>>();
  private readonly failures: Record<string, CallFailure> = {};
  /** Requests sent, by IAM action. */
  readonly counts = new Map<string, number>();
  private organization?: Promise<{ id?: string; management?: string }>;
  private rootName?: Promise<Map<string, string>>;

  constructor(
    private readonly org: OrganizationsClient,
    private readonly options: OrgReaderOptions = {},
  ) {}

  private async call<T>(
    action: string,
    fn: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    try {
      this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
      return { ok: true, value: await withBackoff(fn, this.options.backoff) };
    } catch (err) {
      this.failures[action] = describeFailure(err);
      return { ok: false };
    }
  }

  private describeOrganization() {
    this.organization ??= this.call('organizations:DescribeOrganization', () =>
      this.org.send(new DescribeOrganizationCommand({})),
    ).then((r) =>
      r.ok ? { id: r.value?.Organization?.Id, management: r.value?.Organization?.MasterAccountId } : {},
    );
    return this.organization;
  }

  /** Every account of the Organization (or the static list), filtered by the selection. */
  async listAccounts(selection: AccountSelection = {}): Promise<AccountListing> {
    const org = await this.describeOrganization();
    const excluded = new Set(selection.excludeAccounts ?? []);
    if (selection.accounts) {
      return {
        accounts: [...new Set(selection.accounts)].filter((id) => !excluded.has(id)).map((id) => ({ id })),
        inactive: [],
        complete: true,
        failures: {},
        organizationId: org.id,
        managementAccountId: org.management,
      };
    }
    const all: Account[] = [];
    let complete = true;
    let token: string | undefined;
    do {
      const page = await this.call('organizations:ListAccounts', () =>
        this.org.send(new ListAccountsCommand({ NextToken: token })),
      );
      if (!page.ok) {
        complete = false;
        break;
      }
      all.push(...(page.value.Accounts ?? []));
      token = page.value.NextToken;
    } while (token);

    let allowed: Set<string> | undefined;
    if (selection.includeOus?.length) {
      const under = await this.accountsUnder(selection.includeOus);
      if (!under.complete) complete = false;
      allowed = under.ids;
    }
    const denied = selection.excludeOus?.length ? await this.accountsUnder(selection.excludeOus) : undefined;
    if (denied && !denied.complete) complete = false;
    const selected = all.filter(
      (a) => a.Id && !excluded.has(a.Id) && (!allowed || allowed.has(a.Id)) && !denied?.ids.has(a.Id),
    );
    // `State` replaces the deprecated `Status`; either says ACTIVE for an account that can be audited.
    const active = (a: Account) => (a.State ?? a.Status) === 'ACTIVE';
    const view = (a: Account): OrgAccount => ({ id: a.Id!, ...(a.Name ? { name: a.Name } : {}) });
    return {
      accounts: selected.filter(active).map(view),
      inactive: selected.filter((a) => !active(a)).map(view),
      complete,
      allActive: new Set(all.filter(active).map((a) => a.Id!)),
      failures: { ...this.failures },
      organizationId: org.id,
      managementAccountId: org.management,
    };
  }

  /** The accounts under these OUs or roots at any depth (ListAccountsForParent, ListOrganizationalUnitsForParent). */
  private async accountsUnder(parents: readonly string[]): Promise<{ ids: Set<string>; complete: boolean }> {
    const ids = new Set<string>();
    let complete = true;
    const queue = [...parents];
    const seen = new Set<string>();
    while (queue.length) {
      const parent = queue.shift()!;
      if (seen.has(parent)) continue;
      seen.add(parent);
      for (const [action, list] of [
        ['organizations:ListAccountsForParent', 'accounts'],
        ['organizations:ListOrganizationalUnitsForParent', 'ous'],
      ] as const) {
        let token: string | undefined;
        do {
          const page = await this.call(action, () =>
            list === 'accounts'
              ? this.org.send(new ListAccountsForParentCommand({ ParentId: parent, NextToken: token }))
              : this.org.send(
                  new ListOrganizationalUnitsForParentCommand({ ParentId: parent, NextToken: token }),
                ),
          );
          if (!page.ok) {
            complete = false;
            break;
          }
          const value = page.value as {
            Accounts?: { Id?: string }[];
            OrganizationalUnits?: { Id?: string }[];
          };
          for (const a of value.Accounts ?? []) if (a.Id) ids.add(a.Id);
          for (const ou of value.OrganizationalUnits ?? []) if (ou.Id) queue.push(ou.Id);
          token = page.value.NextToken;
        } while (token);
      }
    }
    return { ids, complete };
  }

  private parentOf(childId: string) {
    let p = this.parents.get(childId);
    if (!p) {
      p = this.call('organizations:ListParents', () =>
        this.org.send(new ListParentsCommand({ ChildId: childId })),
      ).then((r) => {
        const parent = r.ok ? r.value.Parents?.[0] : undefined;
        return parent?.Id && parent.Type ? { Id: parent.Id, Type: parent.Type } : undefined;
      });
      this.parents.set(childId, p);
    }
    return p;
  }

  private policiesOf(targetId: string) {
    let p = this.attached.get(targetId);
    if (!p) {
      p = (async () => {
        const all: PolicySummary[] = [];
        let token: string | undefined;
        do {
          const page = await this.call('organizations:ListPoliciesForTarget', () =>
            this.org.send(
              new ListPoliciesForTargetCommand({ TargetId: targetId, Filter: SCP, NextToken: token }),
            ),
          );
          if (!page.ok) return undefined;
          all.push(...(page.value.Policies ?? []));
          token = page.value.NextToken;
        } while (token);
        return all;
      })();
      this.attached.set(targetId, p);
    }
    return p;
  }

  private documentOf(policyId: string) {
    let p = this.documents.get(policyId);
    if (!p) {
      p = this.call('organizations:DescribePolicy', () =>
        this.org.send(new DescribePolicyCommand({ PolicyId: policyId })),
      ).then((r) => (r.ok ? r.value.Policy : undefined));
      this.documents.set(policyId, p);
    }
    return p;
  }

  private rootNames() {
    this.rootName ??= this.call('organizations:ListRoots', () =>
      this.org.send(new ListRootsCommand({})),
    ).then(
      (r) =>
        new Map(
          (r.ok ? (r.value?.Roots ?? []) : []).flatMap((root) =>
            root.Id ? [[root.Id, root.Name ?? 'Root']] : [],
          ),
        ),
    );
    return this.rootName;
  }

  /**
   * The SCPs in force for one account: its chain root → OUs → account (ListParents), the SCPs attached
   * at each level (ListPoliciesForTarget) and their documents (DescribePolicy), each read once per run.
   */
  async scpsFor(account: OrgAccount): Promise<AccountScps> {
    const org = await this.describeOrganization();
    const chain: OrganizationsDocument['TargetChain'] = [];
    const calls: Record<string, CallFailure> = {};
    let id: string | undefined = account.id;
    let type = 'ACCOUNT' as OrganizationsDocument['TargetChain'][number]['Type'];
    let brokenChain = false;
    for (let depth = 0; id && depth < 8; depth++) {
      chain.unshift({
        TargetId: id,
        Type: type,
        ...(type === 'ACCOUNT' && account.name ? { Name: account.name } : {}),
      });
      if (type === 'ROOT') break;
      const parent = await this.parentOf(id);
      if (!parent) {
        brokenChain = true;
        break;
      }
      id = parent.Id;
      type = parent.Type as typeof type;
    }
    if (brokenChain && this.failures['organizations:ListParents'])
      calls['organizations:ListParents'] = this.failures['organizations:ListParents'];
    const roots = await this.rootNames();
    const policies = new Map<string, Policy>();
    await mapLimit(chain, this.options.concurrency ?? 4, async (target) => {
      if (target.Type === 'ROOT' && roots.get(target.TargetId)) target.Name = roots.get(target.TargetId);
      const attached = await this.policiesOf(target.TargetId);
      if (!attached) {
        calls['organizations:ListPoliciesForTarget'] = this.failures['organizations:ListPoliciesForTarget']!;
        return;
      }
      target.Policies = attached;
      for (const summary of attached) {
        if (!summary.Id) continue;
        const document = await this.documentOf(summary.Id);
        if (document) policies.set(summary.Id, document);
        else calls['organizations:DescribePolicy'] = this.failures['organizations:DescribePolicy']!;
      }
    });
    return {
      section: {
        ...(org.id ? { OrganizationId: org.id } : {}),
        ...(org.management ? { ManagementAccountId: org.management } : {}),
        TargetChain: chain,
        Policies: [...policies.values()],
      },
      calls,
    };
  }
}

/**
 * The regions enabled for the calling account (ec2:DescribeRegions without AllRegions lists exactly
 * those): the regions an Organization audit covers when none are configured.
 */
export async function enabledRegions(ec2: EC2Client, backoff?: BackoffOptions): Promise<string[]> {
  const out = await withBackoff(() => ec2.send(new DescribeRegionsCommand({ AllRegions: false })), backoff);
  return (out.Regions ?? [])
    .filter((r) => r.RegionName && (r.OptInStatus === undefined || r.OptInStatus !== 'not-opted-in'))
    .map((r) => r.RegionName!)
    .sort();
}

/** Errors that say a region is not enabled for the account the credentials belong to. */
const REGION_DISABLED = new Set([
  'OptInRequired',
  'AuthFailure',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
]);

/**
 * A collection in which every call failed because the region is not enabled for the account (an
 * opt-in region the account never opted into): nothing there to audit, and nothing to close.
 */
export function regionNotEnabled(calls: Record<string, CallFailure>): boolean {
  // The Organizations reads (the planner's, merged into the snapshot) say nothing about the region.
  const failures = Object.entries(calls)
    .filter(([action]) => !action.startsWith('organizations:'))
    .map(([, failure]) => failure);
  return (
    calls['ec2:DescribeInstances'] !== undefined &&
    failures.length > 0 &&
    failures.every((f) => REGION_DISABLED.has(f.error))
  );
}
