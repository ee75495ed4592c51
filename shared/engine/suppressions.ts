import { z } from 'zod';
import { echo } from '../echo';
import { UsageError } from '../errors';
import type { Finding, Suppression, SuppressionEntry, SuppressionMatch } from '../model';
import { exemptionSuppression, type BuiltInExemption } from './exemptions';

/**
 * Suppressions (DESIGN §8): entries that accept a known exception for a while. Matching is pure: a
 * finding matched by an unexpired entry keeps its real status and gains `suppressed`; an expired entry
 * never matches, so the next audit after the expiry reports (and alerts) the finding again.
 */

/** The longest an entry may run: a year, so every accepted exception is looked at again at least yearly. */
export const MAX_SUPPRESSION_DAYS = 365;
const DAY_MS = 86_400_000;

export const SUPPRESSION_HINT =
  'an entry is {"match": {"ruleId": "network-path", "resourceId": "i-…"}, "reason": "…", "owner": "…", "expiresAt": "2027-03-01"}; README "Suppressions"';

/** A suppressions file or entry that does not validate: one line naming the JSON path, and a hint. */
export class SuppressionError extends UsageError {
  constructor(
    message: string,
    readonly hint: string = SUPPRESSION_HINT,
  ) {
    super(message);
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `2027-03-01` (the start of that day, UTC) or a full ISO 8601 time with its zone → ISO string. */
export function parseExpiry(value: string): string | undefined {
  if (!ISO_DATE.test(value)) return undefined;
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const text = (what: string) =>
  z
    .string({
      error: (iss) => (iss.input === undefined ? `${what} is required` : `${what} must be a string`),
    })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(1024, `${what} is longer than 1024 characters`);

const matchSchema = z
  .object({
    accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region name such as eu-west-1'),
    resourceId: text('resourceId'),
    ruleId: text('ruleId'),
    reason: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be a reason code such as NO_INSTANCE_PROFILE'),
    tag: z.object({ key: text('tag.key'), value: z.string().max(256).optional() }).strict(),
  })
  .partial()
  .strict()
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message:
      'must name at least one of accountId, region, resourceId, ruleId, reason, tag (an empty match would suppress everything)',
  });

const entrySchema = z
  .object({
    id: z
      .string()
      .regex(/^[\w.:#-]{1,64}$/, 'must be 1–64 letters, digits or . _ : # -')
      .optional(),
    match: matchSchema,
    reason: text('reason'),
    owner: text('owner'),
    expiresAt: z
      .string({
        error: (iss) =>
          iss.input === undefined
            ? 'expiresAt is required (an entry always expires)'
            : 'expiresAt must be a string',
      })
      .refine((v) => parseExpiry(v) !== undefined, 'must be a date (2027-03-01) or an ISO 8601 time'),
  })
  .strict();

const fileSchema = z.union([z.object({ suppressions: z.array(z.unknown()) }).strict(), z.array(z.unknown())]);

const pathText = (path: readonly (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`)).join('');

/** The first zod issue as `<path>: <problem>`. */
function firstIssue(error: z.ZodError, prefix: readonly (string | number)[]): string {
  const issue = error.issues[0]!;
  let problem = issue.message;
  if (issue.code === 'unrecognized_keys') problem = `unknown key ${echo(issue.keys[0] ?? '')}`;
  const at = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  return `${pathText(at) || 'the document'}: ${problem}`;
}

export interface ValidateOptions {
  /** Where the entries come from, for messages (`suppressions.json`). */
  source: string;
  /** The audit's time: entries expiring more than MAX_SUPPRESSION_DAYS after it are refused. */
  now: Date;
  /** The valid rule ids (a misspelt rule id would silently suppress nothing). */
  ruleIds?: readonly string[];
}

/** One entry, validated (ids default to `<source>#<n>`), with its expiry normalized to ISO 8601. */
export function parseSuppressionEntry(
  raw: unknown,
  options: ValidateOptions & { path?: readonly (string | number)[]; defaultId?: string },
): SuppressionEntry {
  const path = options.path ?? [];
  const parsed = entrySchema.safeParse(raw);
  if (!parsed.success)
    throw new SuppressionError(
      `invalid suppression in ${options.source} at ${firstIssue(parsed.error, path)}`,
    );
  const entry = parsed.data;
  const ruleId = entry.match.ruleId;
  if (ruleId !== undefined && options.ruleIds && !options.ruleIds.includes(ruleId))
    throw new SuppressionError(
      `invalid suppression in ${options.source} at ${pathText([...path, 'match', 'ruleId'])}: unknown rule id ${echo(ruleId)}`,
      `valid rule ids: ${options.ruleIds.join(', ')}`,
    );
  const expiresAt = parseExpiry(entry.expiresAt)!;
  const latest = options.now.getTime() + MAX_SUPPRESSION_DAYS * DAY_MS;
  if (new Date(expiresAt).getTime() > latest)
    throw new SuppressionError(
      `invalid suppression in ${options.source} at ${pathText([...path, 'expiresAt'])}: ${expiresAt} is more than ${MAX_SUPPRESSION_DAYS} days after ${options.now.toISOString()}`,
      `an entry runs at most ${MAX_SUPPRESSION_DAYS} days (until ${new Date(latest).toISOString().slice(0, 10)}); renew it when it expires`,
    );
  const match: SuppressionMatch = {};
  for (const key of ['accountId', 'region', 'resourceId', 'ruleId', 'reason'] as const) {
    const value = entry.match[key];
    if (value !== undefined) match[key] = value;
  }
  if (entry.match.tag)
    match.tag =
      entry.match.tag.value === undefined
        ? { key: entry.match.tag.key }
        : { key: entry.match.tag.key, value: entry.match.tag.value };
  return {
    id: entry.id ?? options.defaultId ?? `${options.source}#1`,
    match,
    reason: entry.reason,
    owner: entry.owner,
    expiresAt,
  };
}

/**
 * A suppressions document: `{"suppressions": [entry, …]}` or a bare array of entries. The first bad
 * field is an error naming its JSON path (`suppressions[2].match.ruleId: …`); ids must be unique.
 */
export function parseSuppressionsDocument(json: unknown, options: ValidateOptions): SuppressionEntry[] {
  const doc = fileSchema.safeParse(json);
  if (!doc.success)
    throw new SuppressionError(
      `invalid suppressions file ${options.source}: expected {"suppressions": [ … ]} or an array of entries`,
    );
  const wrapped = !Array.isArray(doc.data);
  const list = Array.isArray(doc.data) ? doc.data : doc.data.suppressions;
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const path = wrapped ? ['suppressions', i] : [i];
    const entry = parseSuppressionEntry(raw, { ...options, path, defaultId: `${options.source}#${i + 1}` });
    if (seen.has(entry.id))
      throw new SuppressionError(
        `invalid suppression in ${options.source} at ${pathText([...path, 'id'])}: duplicate id ${echo(entry.id)}`,
      );
    seen.add(entry.id);
    return entry;
  });
}

/** Whether an entry is in force at `now` (an expired entry never matches). */
export const isActive = (entry: Pick<SuppressionEntry, 'expiresAt'>, now: Date) =>
  new Date(entry.expiresAt).getTime() > now.getTime();

/** Whether an entry's match covers a finding (every given field equal; `tag` on the resource's tags). */
export function matchesFinding(
  match: SuppressionMatch,
  finding: Finding,
  tags: ReadonlyMap<string, string> | undefined,
): boolean {
  if (match.accountId !== undefined && match.accountId !== finding.accountId) return false;
  if (match.region !== undefined && match.region !== finding.region) return false;
  if (match.resourceId !== undefined && match.resourceId !== finding.resourceId) return false;
  if (match.ruleId !== undefined && match.ruleId !== finding.ruleId) return false;
  if (match.reason !== undefined && match.reason !== finding.reason) return false;
  if (match.tag) {
    const value = tags?.get(match.tag.key);
    if (value === undefined) return false;
    if (match.tag.value !== undefined && match.tag.value !== value) return false;
  }
  return true;
}

export interface ApplyOptions {
  /** The audit's time: entries whose expiresAt is at or before it do not match. */
  now: Date;
  /** A resource's tags (EC2 instances; undefined for hybrid nodes and account-level resources). */
  tagsOf: (resourceId: string) => ReadonlyMap<string, string> | undefined;
  /** The built-in exemptions in force (default none). */
  exemptions?: readonly BuiltInExemption[];
}

const suppressionOf = (entry: SuppressionEntry): Suppression => ({
  id: entry.id,
  reason: entry.reason,
  owner: entry.owner,
  expiresAt: entry.expiresAt,
});

/**
 * The findings with `suppressed` set where an exemption or an unexpired entry matches. A built-in
 * exemption wins over entries (it does not expire); among entries, the one that runs longest (then the
 * smallest id), so the same finding keeps the same entry from one audit to the next.
 */
export function applySuppressions(
  findings: readonly Finding[],
  entries: readonly SuppressionEntry[],
  options: ApplyOptions,
): Finding[] {
  const active = entries
    .filter((e) => isActive(e, options.now))
    .sort((a, b) => b.expiresAt.localeCompare(a.expiresAt) || a.id.localeCompare(b.id));
  const exemptions = options.exemptions ?? [];
  if (active.length === 0 && exemptions.length === 0) return [...findings];
  return findings.map((finding) => {
    const tags = options.tagsOf(finding.resourceId);
    const exemption =
      finding.resourceType === 'EC2Instance' && tags ? exemptions.find((e) => e.matches(tags)) : undefined;
    const entry = exemption ? undefined : active.find((e) => matchesFinding(e.match, finding, tags));
    const suppressed = exemption ? exemptionSuppression(exemption) : entry ? suppressionOf(entry) : undefined;
    if (!suppressed) {
      if (finding.suppressed === undefined) return finding;
      const { suppressed: _dropped, ...rest } = finding;
      return rest;
    }
    return { ...finding, suppressed };
  });
}

/** Findings that count: everything not suppressed (failure counts, digests, exit codes). */
export const unsuppressed = <F extends Pick<Finding, 'suppressed'>>(findings: readonly F[]): F[] =>
  findings.filter((f) => !f.suppressed);
