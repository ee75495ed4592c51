import {
  BatchImportFindingsCommand,
  type AwsSecurityFinding,
  type BatchImportFindingsResponse,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { errorName, withBackoff, type BackoffOptions } from '../aws/faults';
import { asffBytes } from './asff';

/**
 * Imports ASFF findings into Security Hub CSPM with BatchImportFindings (DESIGN §8). Limits from the
 * Security Hub CSPM partner guide, "Guidelines for using the BatchImportFindings API": up to 100
 * findings per batch, up to 240 KB per finding and up to 6 MB per batch; 10 requests per second per
 * account and Region (burst 30). A finding the API rejects is reported with its Id and error, the rest
 * of its batch and the other batches still go: the caller keeps the failed ones (the outbox) and
 * retries them later. Importing the same Id again updates the finding, so a retry is harmless.
 */

export const SECURITY_HUB_LIMITS = {
  maxFindingsPerRequest: 100,
  maxFindingBytes: 240 * 1024,
  maxRequestBytes: 6 * 1024 * 1024,
} as const;

/** Where ASFF findings go: Security Hub when deployed, a local sink in the demo and the tests. */
export interface SecurityHubFindingsSink {
  batchImportFindings(findings: AwsSecurityFinding[]): Promise<BatchImportFindingsResponse>;
}

/** The real sink: one BatchImportFindings call per batch. */
export class SecurityHubSink implements SecurityHubFindingsSink {
  constructor(private readonly securityHub: SecurityHubClient) {}

  async batchImportFindings(findings: AwsSecurityFinding[]): Promise<BatchImportFindingsResponse> {
    const { FailedCount, SuccessCount, FailedFindings } = await this.securityHub.send(
      new BatchImportFindingsCommand({ Findings: findings }),
    );
    return { FailedCount, SuccessCount, FailedFindings };
  }
}

/** The embedded default's sink: keeps (and optionally prints) the batches that would have been sent. */
export class LocalSecurityHubSink implements SecurityHubFindingsSink {
  readonly batches: AwsSecurityFinding[][] = [];
  constructor(private readonly print?: (batch: readonly AwsSecurityFinding[]) => void) {}

  /** Every finding of every batch, in the order sent. */
  get findings(): AwsSecurityFinding[] {
    return this.batches.flat();
  }

  async batchImportFindings(findings: AwsSecurityFinding[]): Promise<BatchImportFindingsResponse> {
    this.batches.push([...findings]);
    this.print?.(findings);
    return { FailedCount: 0, SuccessCount: findings.length, FailedFindings: [] };
  }
}

export interface FailedImport {
  Id: string;
  ErrorCode: string;
  ErrorMessage: string;
}

export interface ImportOutcome {
  /** Ids Security Hub accepted. */
  imported: Set<string>;
  /** Ids it rejected (FailedFindings), or whose request failed, or that were too large to send. */
  failed: FailedImport[];
  requests: number;
}

export interface ImporterOptions {
  maxFindingsPerRequest?: number;
  maxFindingBytes?: number;
  maxRequestBytes?: number;
  backoff?: BackoffOptions;
}

/**
 * BatchImportFindings reports throttling as LimitExceededException ("…beyond the current account or
 * throttling limits"); the shared backoff retries errors by their throttling names, so that one is
 * carried to it under a throttling name and unwrapped afterwards.
 */
class ThrottledImportError extends Error {
  override readonly name = 'ThrottlingException';
  constructor(override readonly cause: unknown) {
    super(errorName(cause));
  }
}

const THROTTLING_NAMES = new Set(['LimitExceededException']);

/** `{"Findings":[` + `]}` around the findings, one comma between two. */
const ENVELOPE_BYTES = Buffer.byteLength('{"Findings":[]}', 'utf8');

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : undefined;
  return message && message !== errorName(err) ? message.slice(0, 500) : errorName(err);
}

export class SecurityHubImporter {
  private readonly limits: Required<Omit<ImporterOptions, 'backoff'>>;

  constructor(
    private readonly sink: SecurityHubFindingsSink,
    private readonly options: ImporterOptions = {},
  ) {
    this.limits = {
      maxFindingsPerRequest: options.maxFindingsPerRequest ?? SECURITY_HUB_LIMITS.maxFindingsPerRequest,
      maxFindingBytes: options.maxFindingBytes ?? SECURITY_HUB_LIMITS.maxFindingBytes,
      maxRequestBytes: options.maxRequestBytes ?? SECURITY_HUB_LIMITS.maxRequestBytes,
    };
  }

  /** Splits findings into requests within the limits; a finding too large for any request is returned apart. */
  plan(findings: readonly AwsSecurityFinding[]): {
    batches: AwsSecurityFinding[][];
    tooLarge: { finding: AwsSecurityFinding; bytes: number }[];
  } {
    // One finding per Id: the last one given is the newest state; sending both could apply either.
    const byId = new Map<string, AwsSecurityFinding>();
    for (const finding of findings) {
      byId.delete(finding.Id ?? '');
      byId.set(finding.Id ?? '', finding);
    }
    const batches: AwsSecurityFinding[][] = [];
    const tooLarge: { finding: AwsSecurityFinding; bytes: number }[] = [];
    let current: AwsSecurityFinding[] = [];
    let bytes = ENVELOPE_BYTES;
    for (const finding of byId.values()) {
      const size = asffBytes(finding);
      if (size > this.limits.maxFindingBytes || ENVELOPE_BYTES + size > this.limits.maxRequestBytes) {
        tooLarge.push({ finding, bytes: size });
        continue;
      }
      const added = size + (current.length > 0 ? 1 : 0);
      if (
        current.length >= this.limits.maxFindingsPerRequest ||
        (current.length > 0 && bytes + added > this.limits.maxRequestBytes)
      ) {
        batches.push(current);
        current = [];
        bytes = ENVELOPE_BYTES;
      }
      bytes += size + (current.length > 0 ? 1 : 0);
      current.push(finding);
    }
    if (current.length) batches.push(current);
    return { batches, tooLarge };
  }

  async import(findings: readonly AwsSecurityFinding[]): Promise<ImportOutcome> {
    const outcome: ImportOutcome = { imported: new Set(), failed: [], requests: 0 };
    const { batches, tooLarge } = this.plan(findings);
    for (const { finding, bytes } of tooLarge)
      outcome.failed.push({
        Id: finding.Id ?? '',
        ErrorCode: 'FindingTooLarge',
        ErrorMessage: `${bytes} bytes; BatchImportFindings accepts up to ${this.limits.maxFindingBytes} bytes per finding`,
      });

    for (const batch of batches) {
      outcome.requests++;
      try {
        const response = await this.send(batch);
        const failed = new Map((response.FailedFindings ?? []).map((f) => [f.Id ?? '', f]));
        const sentIds = new Set(batch.map((f) => f.Id ?? ''));
        // A count of failures the list does not name leaves every unnamed finding in doubt: reported
        // as failed, so the caller sends it again (an update of the same Id, never a duplicate).
        const unexplained =
          (response.FailedCount ?? failed.size) > [...failed.keys()].filter((id) => sentIds.has(id)).length;
        for (const finding of batch) {
          const id = finding.Id ?? '';
          const f = failed.get(id);
          if (f)
            outcome.failed.push({
              Id: id,
              ErrorCode: f.ErrorCode ?? 'Failed',
              ErrorMessage: f.ErrorMessage ?? f.ErrorCode ?? 'Failed',
            });
          else if (unexplained)
            outcome.failed.push({
              Id: id,
              ErrorCode: 'Unacknowledged',
              ErrorMessage: `Security Hub reported ${response.FailedCount} failed findings without naming them all`,
            });
          else outcome.imported.add(id);
        }
      } catch (err) {
        for (const finding of batch)
          outcome.failed.push({
            Id: finding.Id ?? '',
            ErrorCode: errorName(err),
            ErrorMessage: messageOf(err),
          });
      }
    }
    return outcome;
  }

  private async send(batch: AwsSecurityFinding[]): Promise<BatchImportFindingsResponse> {
    try {
      return await withBackoff(async () => {
        try {
          return await this.sink.batchImportFindings(batch);
        } catch (err) {
          throw THROTTLING_NAMES.has(errorName(err)) ? new ThrottledImportError(err) : err;
        }
      }, this.options.backoff);
    } catch (err) {
      throw err instanceof ThrottledImportError ? err.cause : err;
    }
  }
}
