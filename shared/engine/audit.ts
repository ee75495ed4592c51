import type { AuditConfig } from '../config';
import { echoList, echoValue } from '../echo';
import { evaluateInventory, type AuditResult } from './evaluate';
import { UsageError } from '../errors';
import { buildInventory } from '../snapshot/inventory';
import type { RuleId, SuppressionEntry } from '../model';
import { activeExemptions } from './exemptions';
import { applySuppressions } from './suppressions';
import type { Rule } from './rule';
import { INSTANCE_ID, MANAGED_INSTANCE_ID, type Snapshot } from '../snapshot/schema';

export interface AuditOptions {
  /** The rules to evaluate with: the registry (rules/index.ts), passed in by the entry point. */
  rules: readonly Rule[];
  ruleIds?: readonly string[];
  resourceIds?: readonly string[];
  config?: AuditConfig;
  now?: Date;
  evaluatedAt?: Date;
  /** Suppression entries (a `--suppressions` file, the table's entries); expired ones never match. */
  suppressions?: readonly SuppressionEntry[];
  /** Built-in exemptions are on unless listed here (exemptions.ts ids). */
  exemptions?: { disabled: readonly string[] };
}

/** The message for unknown rule ids: at most a few, each cut short, then the valid ids. */
export function unknownRuleIdsMessage(unknown: readonly string[], rules: readonly Rule[]): string {
  const valid = rules.map((rule) => rule.meta.id);
  return `unknown rule id${unknown.length > 1 ? 's' : ''} ${echoList(unknown)}; valid ids: ${valid.join(', ')}`;
}

/** Validates user-supplied rule ids; an unknown one is an error that lists the valid ids. */
export function parseRuleIds(ids: readonly string[], rules: readonly Rule[]): RuleId[] {
  const valid = new Set<string>(rules.map((rule) => rule.meta.id));
  const unknown = ids.filter((id) => !valid.has(id));
  if (unknown.length > 0) throw new UsageError(unknownRuleIdsMessage(unknown, rules));
  return ids as RuleId[];
}

/** Instance and hybrid node ids: a malformed one is an error quoting at most a few of them, each cut short. */
export function parseResourceIds(ids: readonly string[]): string[] {
  const bad = ids.filter((id) => !INSTANCE_ID.test(id) && !MANAGED_INSTANCE_ID.test(id));
  if (bad.length > 0) {
    throw new UsageError(
      `invalid instance id${bad.length > 1 ? 's' : ''} ${echoList(bad, undefined, (b) => echoValue(b))}: expected i-0123456789abcdef0 or mi-0123456789abcdef0`,
    );
  }
  return [...ids];
}

/**
 * The resources a scoped snapshot speaks for: its instances and hybrid nodes, plus the instance ids the
 * scope asked for (so an id that no longer exists is still "in scope"). Undefined for a whole-region
 * snapshot. Account-level rules are not evaluated from a scoped snapshot: it holds only part of the
 * account's hybrid nodes and activations, and a count over part of them would be wrong.
 */
export function scopedResourceIds(snapshot: Snapshot): Set<string> | undefined {
  const scope = snapshot.scope;
  if (!scope || scope.kind === 'region') return undefined;
  const ids = new Set<string>(scope.kind === 'instances' ? scope.instanceIds : []);
  for (const reservation of snapshot.ec2?.Reservations ?? [])
    for (const instance of reservation.Instances) ids.add(instance.InstanceId);
  for (const info of snapshot.ssm?.InstanceInformationList ?? []) ids.add(info.InstanceId);
  return ids;
}

/** normalize → evaluate for one validated snapshot: the shared core of the CLI and the Lambda handlers. */
export function auditSnapshot(snapshot: Snapshot, options: AuditOptions): AuditResult {
  const inventory = buildInventory(snapshot);
  let resourceIds = options.resourceIds ? parseResourceIds(options.resourceIds) : undefined;
  const inScope = scopedResourceIds(snapshot);
  if (inScope) resourceIds = resourceIds ? resourceIds.filter((id) => inScope.has(id)) : [...inScope];
  const scope = snapshot.scope;
  const resourceKinds: ('ec2' | 'hybrid')[] | undefined =
    !scope || scope.kind === 'region' || options.resourceIds
      ? undefined
      : scope.kind === 'vpc'
        ? ['ec2']
        : scope.kind === 'role'
          ? ['ec2', 'hybrid']
          : undefined;
  const result = evaluateInventory(inventory, {
    rules: options.rules,
    ruleIds: options.ruleIds ? parseRuleIds(options.ruleIds, options.rules) : undefined,
    resourceIds,
    resourceKinds,
    config: options.config,
    now: options.now,
    evaluatedAt: options.evaluatedAt,
  });
  // Suppressions are judged at the audit's time (a snapshot's collection, or --now), like the rules.
  const findings = applySuppressions(result.findings, options.suppressions ?? [], {
    now: options.now ?? new Date(),
    tagsOf: (id) => inventory.instances.get(id)?.tags,
    exemptions: activeExemptions(options.exemptions?.disabled),
  });
  return { ...result, findings };
}
