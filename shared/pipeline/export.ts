import { toAsff, type AsffContext } from '../alerts/asff';
import { partitionOf } from '../knowledge/partition';
import type { SecurityHubImporter } from '../alerts/security-hub';
import type { StoredFinding } from '../store/diff';
import { findingId } from '../store/keys';

/**
 * Where stored findings are exported after each audit (DESIGN §8): the store marks every change it
 * writes for export in the same write (`pendingExport`), the audit exports what is pending, and only
 * what the target accepted is cleared — a rejected or unsent change stays in the outbox for the next
 * audit, so nothing is lost and an accepted one is never sent again.
 */
export interface ExportTarget {
  readonly name: string;
  /** Exports the findings' current state; returns the finding ids (store/keys findingId) accepted. */
  export(
    findings: readonly StoredFinding[],
  ): Promise<{ accepted: Set<string>; failed: { id: string; error: string }[] }>;
}

/**
 * Security Hub CSPM: each finding as ASFF, imported with BatchImportFindings (shared/alerts/security-hub.ts).
 * A resolved, closed or suppressed finding goes as `RecordState: ARCHIVED`; a regression as ACTIVE again.
 */
export class SecurityHubExport implements ExportTarget {
  readonly name = 'Security Hub';

  constructor(
    private readonly importer: SecurityHubImporter,
    private readonly context: Omit<AsffContext, 'recordState' | 'partition'> & { partition?: string },
  ) {}

  async export(findings: readonly StoredFinding[]) {
    const byAsffId = new Map<string, string>();
    const asff = findings.map((f) => {
      const partition = this.context.partition ?? partitionOf(f.region);
      const finding = toAsff(f, { ...this.context, partition });
      byAsffId.set(finding.Id!, findingId(f));
      return finding;
    });
    const outcome = await this.importer.import(asff);
    const accepted = new Set<string>();
    for (const id of outcome.imported) {
      const key = byAsffId.get(id);
      if (key) accepted.add(key);
    }
    return {
      accepted,
      failed: outcome.failed.map((f) => ({
        id: byAsffId.get(f.Id) ?? f.Id,
        error: `${f.ErrorCode}${f.ErrorMessage ? `: ${f.ErrorMessage}` : ''}`,
      })),
    };
  }
}
