import { resolveConfig, type AuditConfig } from '../config';
import type { Inventory } from '../snapshot/inventory';
import type { Finding, RuleId, Status } from '../model';
import {
  formatReference,
  reasonSeverity,
  reasonSpecOf,
  renderRemediation,
  RESOURCE_TYPE_OF,
  type Outcome,
  type ResolvedOutcome,
  type Rule,
  type RuleContext,
  type RuleMeta,
  type Subject,
  type SubjectKind,
  unavailableOutcome,
} from './rule';
import type { SectionKey } from '../snapshot/schema';

/** Instance states whose findings are closed rather than evaluated (DESIGN §3 "Instance states"). */
export const CLOSING_STATES = new Set(['terminated', 'shutting-down']);

export interface EvaluateOptions {
  rules: readonly Rule[];
  /** Only these rules' findings are returned (their dependencies still run). Default: all. */
  ruleIds?: readonly RuleId[];
  /** Only these EC2 / hybrid resources; account-level rules are skipped when set. */
  resourceIds?: readonly string[];
  /**
   * With `resourceIds`: the kinds of resource the caller asked about, so that an unavailable instance
   * list is still reported for them (a VPC-scoped audit whose DescribeInstances was denied has no ids
   * to filter by, yet must not come back empty). Default: the kinds of the ids in `resourceIds`.
   */
  resourceKinds?: readonly ('ec2' | 'hybrid')[];
  config?: AuditConfig;
  /** The rules' clock (activation expiry, stale pings). Default: the current time. */
  now?: Date;
  /** The `evaluatedAt` stamp of the findings. Default: `now`. */
  evaluatedAt?: Date;
}

export interface AuditResult {
  findings: Finding[];
  /** Instances that are terminated or shutting down: every open finding of theirs is to be closed. */
  closedResourceIds: string[];
  rulesRun: RuleId[];
}

/** Orders rules so that every rule runs after the rules it depends on. */
function orderRules(all: readonly Rule[], selected: ReadonlySet<RuleId>): Rule[] {
  const byId = new Map(all.map((r) => [r.meta.id, r]));
  const ordered: Rule[] = [];
  const visiting = new Set<RuleId>();
  const done = new Set<RuleId>();
  const visit = (id: RuleId) => {
    if (done.has(id)) return;
    if (visiting.has(id)) throw new Error(`rule dependency cycle through ${id}`);
    const rule = byId.get(id);
    if (!rule) throw new Error(`rule ${id} is required but not registered`);
    visiting.add(id);
    for (const dep of rule.meta.dependsOn ?? []) visit(dep);
    visiting.delete(id);
    done.add(id);
    ordered.push(rule);
  };
  for (const id of selected) visit(id);
  return ordered;
}

/** A rule broke its own contract (an undeclared reason, a status its declaration does not give). */
export class RuleContractError extends Error {
  override readonly name = 'RuleContractError';
}

/**
 * An outcome with its reason's declaration applied: the status and severity the reason declares and its
 * remediation rendered with the outcome's values. Throws `RuleContractError` when the rule returned a
 * reason it does not declare, a status that disagrees with the declaration, or too few values.
 */
export function resolveOutcome(meta: RuleMeta, outcome: Outcome): ResolvedOutcome {
  const spec = reasonSpecOf(meta, outcome.reason);
  if (!spec)
    throw new RuleContractError(`reason ${outcome.reason} is not declared in the meta.reasons of ${meta.id}`);
  if (outcome.status !== undefined && outcome.status !== spec.status)
    throw new RuleContractError(
      `${meta.id} returned ${outcome.status} for ${outcome.reason}, which its meta.reasons declare ${spec.status}`,
    );
  let remediation: string;
  try {
    remediation = renderRemediation(outcome.reason, spec, outcome.variant, outcome.params);
  } catch (err) {
    throw new RuleContractError(`${meta.id}: ${(err as Error).message}`);
  }
  return {
    ...(outcome.resourceId !== undefined ? { resourceId: outcome.resourceId } : {}),
    status: spec.status,
    severity: reasonSeverity(spec, meta.severity),
    reason: outcome.reason,
    message: outcome.message,
    ...(outcome.evidence !== undefined ? { evidence: outcome.evidence } : {}),
    remediation,
  };
}

export function evaluateInventory(inventory: Inventory, options: EvaluateOptions): AuditResult {
  const config = options.config ?? resolveConfig();
  const now = options.now ?? new Date();
  const evaluatedAt = (options.evaluatedAt ?? now).toISOString();
  const selected = new Set<RuleId>(options.ruleIds ?? options.rules.map((r) => r.meta.id));
  const ordered = orderRules(options.rules, selected);
  const needed = new Set<RuleId>(ordered.flatMap((r) => [...(r.meta.dependsOn ?? [])]));
  const resourceFilter = options.resourceIds ? new Set(options.resourceIds) : undefined;

  const subjects: Record<SubjectKind, Subject[]> = { ec2: [], hybrid: [], account: [] };
  const closedResourceIds: string[] = [];
  for (const instance of inventory.instances.values()) {
    if (resourceFilter && !resourceFilter.has(instance.id)) continue;
    if (CLOSING_STATES.has(instance.state)) closedResourceIds.push(instance.id);
    else subjects.ec2.push({ kind: 'ec2', instance });
  }
  for (const node of inventory.hybridNodes.values()) {
    if (resourceFilter && !resourceFilter.has(node.id)) continue;
    subjects.hybrid.push({ kind: 'hybrid', node });
  }
  if (!resourceFilter) subjects.account.push({ kind: 'account' });

  const recorded = new Map<RuleId, Map<string, ResolvedOutcome[]>>();
  const context: RuleContext = {
    inventory,
    config,
    now,
    outcomesOf: (ruleId, resourceId) => recorded.get(ruleId)?.get(resourceId) ?? [],
  };

  const findings: Finding[] = [];
  for (const rule of ordered) {
    const { meta } = rule;
    const reference = formatReference(meta);
    const emit = selected.has(meta.id);
    const keep = needed.has(meta.id) ? new Map<string, ResolvedOutcome[]>() : undefined;
    if (keep) recorded.set(meta.id, keep);
    const missingFor = (kind: SubjectKind) =>
      (meta.needs[kind] ?? [])
        .map((key) => [key, inventory.section(key)] as const)
        .find(([, availability]) => !availability.available);

    const push = (subject: Subject, outcome: ResolvedOutcome) => {
      const resourceType =
        subject.kind === 'account' ? RESOURCE_TYPE_OF.account : RESOURCE_TYPE_OF[subject.kind];
      const defaultId =
        subject.kind === 'ec2'
          ? subject.instance.id
          : subject.kind === 'hybrid'
            ? subject.node.id
            : inventory.accountId;
      const resourceId = outcome.resourceId ?? defaultId;
      if (keep) {
        const list = keep.get(resourceId);
        if (list) list.push(outcome);
        else keep.set(resourceId, [outcome]);
      }
      if (!emit) return;
      findings.push({
        accountId: inventory.accountId,
        region: inventory.region,
        resourceType,
        resourceId,
        ruleId: meta.id,
        status: outcome.status,
        severity: outcome.severity,
        reason: outcome.reason,
        message: outcome.message,
        evidence: outcome.evidence ?? {},
        remediation: outcome.remediation,
        reference,
        evaluatedAt,
      });
    };

    // Without the instance list there is no subject to attach an ERROR to: report it on the account.
    for (const kind of meta.appliesTo) {
      const listing: SectionKey | undefined =
        kind === 'ec2' ? 'ec2.Reservations' : kind === 'hybrid' ? 'ssm.InstanceInformationList' : undefined;
      const availability = listing ? inventory.section(listing) : undefined;
      // With a resource filter, only when the filter asks for resources of this kind (an instance-scoped
      // audit whose DescribeInstances was denied must still say so, not return nothing).
      const wanted =
        !resourceFilter ||
        (options.resourceKinds
          ? options.resourceKinds.includes(kind as 'ec2' | 'hybrid')
          : [...resourceFilter].some((id) => (kind === 'ec2' ? id.startsWith('i-') : id.startsWith('mi-'))));
      // A kind the rule decides from no snapshot data at all (`needs[kind]` declared empty: network-path
      // for hybrid nodes, whose network is outside AWS, is always NOT_APPLICABLE) has nothing to report.
      const decidedWithoutData = meta.needs[kind]?.length === 0;
      if (listing && availability && !availability.available && wanted && !decidedWithoutData) {
        // Its own resource id: the account-level findings of the same rule stay separate.
        push(
          { kind: 'account' },
          resolveOutcome(meta, {
            ...unavailableOutcome(
              listing,
              availability,
              `${meta.id} for ${kind === 'ec2' ? 'EC2 instances' : 'hybrid nodes'}`,
            ),
            resourceId: listingResourceId(inventory.accountId, kind === 'ec2' ? 'ec2' : 'hybrid'),
          }),
        );
      }
    }

    for (const kind of meta.appliesTo) {
      const missing = missingFor(kind);
      for (const subject of subjects[kind]) {
        if (missing) {
          push(subject, resolveOutcome(meta, unavailableOutcome(missing[0], missing[1], meta.id)));
          continue;
        }
        let resolved: ResolvedOutcome[];
        try {
          const result = rule.evaluate(subject, context);
          // Resolved before any is kept: a contract breach in one outcome fails the subject as a whole.
          resolved = (Array.isArray(result) ? (result as readonly Outcome[]) : [result as Outcome]).map(
            (outcome) => resolveOutcome(meta, outcome),
          );
        } catch (err) {
          // One broken rule never aborts the audit: it becomes an ERROR for this rule and subject only.
          const error = err instanceof Error ? err : new Error(String(err));
          resolved = [
            resolveOutcome(meta, {
              reason: 'RULE_EXCEPTION',
              message: `Rule ${meta.id} failed while evaluating this resource: ${error.message}`,
              evidence: { error: error.name, detail: error.message },
            }),
          ];
        }
        for (const outcome of resolved) push(subject, outcome);
      }
    }
  }
  return {
    findings: onePerResourceAndRule(findings),
    closedResourceIds,
    rulesRun: ordered.map((r) => r.meta.id),
  };
}

/** Where an unavailable instance or hybrid node list is reported: `<account>:ec2-instances` / `:hybrid-nodes`. */
export const listingResourceId = (accountId: string, kind: 'ec2' | 'hybrid') =>
  `${accountId}:${kind === 'ec2' ? 'ec2-instances' : 'hybrid-nodes'}`;

const STATUS_WEIGHT: Record<Status, number> = { ERROR: 4, FAIL: 3, WARN: 2, PASS: 1, NOT_APPLICABLE: 0 };

/**
 * A finding is identified by its resource and rule, and the store keeps one per identity: when a rule
 * reports one resource twice, the more serious outcome is the finding and the others go into its
 * evidence (`alsoReported`), instead of two writes fighting over one item.
 */
export function onePerResourceAndRule(findings: readonly Finding[]): Finding[] {
  const byKey = new Map<string, Finding>();
  const extra = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.resourceId}\u0000${f.ruleId}`;
    const kept = byKey.get(key);
    if (!kept) {
      byKey.set(key, f);
      continue;
    }
    const [winner, loser] = STATUS_WEIGHT[f.status] > STATUS_WEIGHT[kept.status] ? [f, kept] : [kept, f];
    byKey.set(key, winner);
    extra.set(key, [...(extra.get(key) ?? []).filter((x) => x !== winner), loser]);
  }
  if (extra.size === 0) return [...findings];
  return [...byKey].map(([key, f]) => {
    const others = extra.get(key);
    if (!others) return f;
    return {
      ...f,
      evidence: {
        ...(f.evidence as Record<string, unknown>),
        alsoReported: others.map((o) => ({ status: o.status, reason: o.reason, message: o.message })),
      },
    };
  });
}
