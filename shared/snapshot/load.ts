import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { SnapshotValidationError } from '../errors';
import { snapshotSchema, type Snapshot } from './schema';

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
export function parseSnapshot(value: unknown, source?: string): Snapshot {
  const result = snapshotSchema.safeParse(value);
  if (!result.success) {
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
    throw new SnapshotValidationError(
      '$',
      code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? err})`,
      {
        source: file,
        cause: err,
      },
    );
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
