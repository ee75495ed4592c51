import { RULES } from '../../rules';
import { resolveConfig, type AuditConfigInput } from '../../shared/config';
import { evaluateInventory, type AuditResult } from '../../shared/engine/evaluate';
import { buildInventory } from '../../shared/snapshot/inventory';
import type { Finding, RuleId } from '../../shared/model';
import { parseSnapshot } from '../../shared/snapshot/load';
import type { SnapshotInput } from '../../shared/snapshot/schema';

export const NOW = new Date('2026-11-23T10:00:00Z');

/** Runs the real pipeline (schema → inventory → engine) over a snapshot built in AWS shapes. */
export function audit(
  snapshot: SnapshotInput,
  options: { ruleIds?: RuleId[]; resourceIds?: string[]; config?: AuditConfigInput; now?: Date } = {},
): AuditResult {
  const inventory = buildInventory(parseSnapshot(snapshot));
  return evaluateInventory(inventory, {
    rules: RULES,
    ruleIds: options.ruleIds,
    resourceIds: options.resourceIds,
    config: resolveConfig(options.config),
    now: options.now ?? NOW,
  });
}

/** The single finding of one rule for one resource; fails loudly when there is not exactly one. */
export function findingOf(result: AuditResult, ruleId: RuleId, resourceId: string): Finding {
  const matches = result.findings.filter((f) => f.ruleId === ruleId && f.resourceId === resourceId);
  if (matches.length !== 1) {
    throw new Error(
      `expected 1 ${ruleId} finding for ${resourceId}, got ${matches.length}: ${JSON.stringify(matches.map((m) => m.reason))}`,
    );
  }
  return matches[0]!;
}
