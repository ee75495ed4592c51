/** Named errors (suffix `Error`, carry `cause`) so callers can map them to exit codes and messages. */

/** A snapshot that does not match the DESIGN §2 format. `path` is the JSON path of the first bad field. */
export class SnapshotValidationError extends Error {
  override readonly name = 'SnapshotValidationError';
  constructor(
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown; source?: string },
  ) {
    super(`${options?.source ? `${options.source}: ` : ''}invalid snapshot at ${path}: ${problem}`, options);
  }
}

/** Bad command-line or invocation input (unknown rule id, malformed instance id, ...). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A live collection that cannot start or cannot produce a snapshot at all: no credentials, no region,
 * no account id. Individual failing calls are not this error: they become `calls` entries and ERROR findings.
 */
export class CollectionError extends Error {
  override readonly name = 'CollectionError';
}
