import { z } from 'zod';

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
  outputBuckets: z
    .array(
      z.object({
        name: z.string().min(3),
        crossAccount: z.boolean().default(false),
        encrypted: z.boolean().default(false),
      }),
    )
    .default([]),
});

export type AuditConfig = z.output<typeof auditConfigSchema>;
export type AuditConfigInput = z.input<typeof auditConfigSchema>;

export function resolveConfig(input: AuditConfigInput = {}): AuditConfig {
  return auditConfigSchema.parse(input);
}
