import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { SnapshotValidationError } from '../errors';
import { snapshotSchema, type Snapshot } from './schema';

/**
 * A snapshot file that is not a snapshot at all (missing, or an AWS CLI response): the message says
 * what the file is, `hint` how to get a snapshot.
 */
export class SnapshotFileError extends SnapshotValidationError {
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown; source?: string },
  ) {
    super('$', message, options);
    this.message = message;
  }
}

export const BUILD_A_SNAPSHOT =
  'build a snapshot with `ssm-audit collect --region R --out FILE`, or with the AWS CLI (README "Building a snapshot with the AWS CLI")';

/** Top-level keys of the AWS CLI responses a snapshot is assembled from, and the command of each. */
const CLI_OUTPUT_KEYS: Readonly<Record<string, string>> = {
  Reservations: 'aws ec2 describe-instances',
  Vpcs: 'aws ec2 describe-vpcs',
  Subnets: 'aws ec2 describe-subnets',
  RouteTables: 'aws ec2 describe-route-tables',
  SecurityGroups: 'aws ec2 describe-security-groups',
  NetworkAcls: 'aws ec2 describe-network-acls',
  VpcEndpoints: 'aws ec2 describe-vpc-endpoints',
  InternetGateways: 'aws ec2 describe-internet-gateways',
  NatGateways: 'aws ec2 describe-nat-gateways',
  InstanceInformationList: 'aws ssm describe-instance-information',
  ServiceSetting: 'aws ssm get-service-setting',
  ActivationList: 'aws ssm describe-activations',
  RoleDetailList: 'aws iam get-account-authorization-details',
  Parents: 'aws organizations list-parents',
  Policy: 'aws organizations describe-policy',
};

/** The AWS CLI command whose output this is, when it is one rather than a snapshot (no schemaVersion). */
function rawCliOutput(value: unknown): { key: string; command: string } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'schemaVersion' in value)
    return undefined;
  const key = Object.keys(value).find((k) => Object.hasOwn(CLI_OUTPUT_KEYS, k));
  return key ? { key, command: CLI_OUTPUT_KEYS[key]! } : undefined;
}

/** Renders a zod issue path as a JSON path: ['ec2', 'Reservations', 3, 'Instances'] -> $.ec2.Reservations[3].Instances */
export function toJsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `missing required field (expected ${issue.expected})`;
  }
  return issue.message;
}

/** Validates an already-parsed JSON value. Throws SnapshotValidationError naming the first bad field. */
/**
 * `null` where a section would be (`"NetworkAcls": null`, what `jq` writes for the output of a call that
 * failed) means the section is absent: unavailable, and with a `calls` entry, denied or failed — the
 * audit then reports ERROR naming the call instead of rejecting the whole snapshot.
 */
function withoutNullSections(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const group of ['ec2', 'ssm', 'iam', 'organizations']) {
    const section = out[group];
    if (section === null) delete out[group];
    else if (section && typeof section === 'object' && !Array.isArray(section))
      out[group] = Object.fromEntries(Object.entries(section).filter(([, v]) => v !== null));
  }
  return out;
}

export function parseSnapshot(value: unknown, source?: string): Snapshot {
  const result = snapshotSchema.safeParse(withoutNullSections(value));
  if (!result.success) {
    const raw = rawCliOutput(value);
    if (raw) {
      throw new SnapshotFileError(
        `${source ? `${source}: ` : ''}not a snapshot but the output of \`${raw.command}\` (top-level ${raw.key}, no schemaVersion)`,
        BUILD_A_SNAPSHOT,
        { source, cause: result.error },
      );
    }
    const first = result.error.issues[0];
    if (!first) throw new SnapshotValidationError('$', 'invalid snapshot', { source });
    const path = first.code === 'unrecognized_keys' ? [...first.path, first.keys[0] ?? ''] : first.path;
    throw new SnapshotValidationError(toJsonPath(path), describeIssue(first), {
      source,
      cause: result.error,
    });
  }
  return result.data;
}

/** Reads and validates a snapshot file; a file that is not JSON fails with the position of the syntax error. */
export async function loadSnapshotFile(file: string): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new SnapshotFileError(`file not found: ${file}`, `check the path, or ${BUILD_A_SNAPSHOT}`, {
        source: file,
        cause: err,
      });
    }
    throw new SnapshotValidationError('$', `cannot read file (${code ?? err})`, {
      source: file,
      cause: err,
    });
  }
  // Editors on Windows (and PowerShell's `Out-File -Encoding utf8`) start a UTF-8 file with a byte order mark.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SnapshotValidationError('$', `not valid JSON: ${(err as Error).message}`, {
      source: file,
      cause: err,
    });
  }
  return parseSnapshot(json, file);
}
