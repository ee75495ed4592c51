import { z } from 'zod';
import { echo } from './echo';
import { UsageError } from './errors';

const outputBucketSchema = z.object({
  name: z.string().min(3),
  crossAccount: z.boolean().default(false),
  encrypted: z.boolean().default(false),
});

/** Tunables of the rules (DESIGN §3 "configurable"). Defaults are the documented ones. */
export const auditConfigSchema = z.object({
  /** R5: warn when an activation expires within this many days. */
  activationExpiryWarningDays: z.number().int().nonnegative().default(14),
  /** R6: warn when standard-tier usage reaches this share of the limit. */
  tierWarnPercent: z.number().min(1).max(100).default(80),
  /** R6/R7: hybrid registrations in ConnectionLost for longer than this still consume the quota. */
  staleHybridDays: z.number().int().positive().default(30),
  /**
   * R7 "Launch grace": a running instance launched or started less than this many minutes ago that has
   * not registered yet is REGISTRATION_PENDING (NOT_APPLICABLE), not unmanaged. Default 30: Default Host
   * Management Configuration may take up to 30 minutes to give a new instance its credentials. 0 turns
   * the grace off.
   */
  registrationGraceMinutes: z.number().int().nonnegative().max(1440).default(30),
  /** R7: an instance carrying this tag is exempt; the tag value is the reason. */
  exemptionTagKey: z.string().min(1).default('ssm-audit:exempt'),
  /** R3: output buckets the fleet writes command output to. */
  outputBuckets: z.array(outputBucketSchema).default([]),
});

export type AuditConfig = z.output<typeof auditConfigSchema>;
export type AuditConfigInput = z.input<typeof auditConfigSchema>;

export function resolveConfig(input: AuditConfigInput = {}): AuditConfig {
  return auditConfigSchema.parse(input);
}

/** A config file a person has to fix; `hint` says how (the valid keys, the expected value). */
export class ConfigError extends UsageError {
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What each setting takes, for the hint of a config file whose value is wrong. */
const SETTING_VALUES: Readonly<Record<keyof AuditConfig, string>> = {
  activationExpiryWarningDays: 'a whole number of days, 0 or more (default 14)',
  tierWarnPercent: 'a number from 1 to 100 (default 80)',
  staleHybridDays: 'a whole number of days, 1 or more (default 30)',
  registrationGraceMinutes: 'a whole number of minutes from 0 (off) to 1440 (default 30)',
  exemptionTagKey: 'a tag key (default "ssm-audit:exempt")',
  outputBuckets: 'a list such as [{"name": "my-output-bucket", "crossAccount": false, "encrypted": true}]',
};

/** Edit distance (insertions, deletions, substitutions, adjacent swaps): how far a typo is from a key. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The valid key a typo most likely meant: same letters in another case, or a few edits away. */
export function nearestKey(key: string, valid: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of valid) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 4)) ? best.key : undefined;
}

function unknownKeyError(path: string, key: string, valid: readonly string[], file: string): ConfigError {
  const suggestion = key.length <= 256 ? nearestKey(key, valid) : undefined;
  return new ConfigError(
    `unknown key ${echo(`${path}${key}`)} in ${file}${suggestion ? `; did you mean ${path}${suggestion}?` : ''}`,
    `valid keys${path ? ` of ${path.replace(/\.$/, '')}` : ''}: ${valid.join(', ')}`,
  );
}

/**
 * A `--config` document: every key must be a setting (a misspelt key would otherwise be ignored and its
 * default silently used), then each value is validated.
 */
export function parseConfigDocument(value: unknown, file: string): AuditConfig {
  const topKeys = Object.keys(auditConfigSchema.shape);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      if (!topKeys.includes(key)) throw unknownKeyError('', key, topKeys, file);
    }
    const buckets = (value as { outputBuckets?: unknown }).outputBuckets;
    const bucketKeys = Object.keys(outputBucketSchema.shape);
    if (Array.isArray(buckets)) {
      buckets.forEach((bucket: unknown, index) => {
        if (bucket === null || typeof bucket !== 'object' || Array.isArray(bucket)) return;
        for (const key of Object.keys(bucket)) {
          if (!bucketKeys.includes(key))
            throw unknownKeyError(`outputBuckets[${index}].`, key, bucketKeys, file);
        }
      });
    }
  }
  const parsed = auditConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const setting = issue.path[0] as keyof AuditConfig | undefined;
    throw new ConfigError(
      `invalid ${at ? at.replace(/^\./, '') : 'config'} in ${file}: ${issue.message}`,
      setting && Object.hasOwn(SETTING_VALUES, setting)
        ? `${setting} takes ${SETTING_VALUES[setting]}`
        : `a config file is a JSON object such as {"tierWarnPercent": 90}; valid keys: ${topKeys.join(', ')}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}
