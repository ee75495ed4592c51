/**
 * Untrusted values quoted back in error messages and logs: bounded and on one line, however long the
 * input (a 100,000-character rule id, a list of 100,000 ids, a control character in an id).
 */

/** At most this many characters of one value are echoed, then "…". */
export const ECHO_MAX_CHARS = 64;
/** At most this many values of a list are echoed, then "and N more". */
export const ECHO_MAX_ITEMS = 5;

/** Printable ASCII without quotes, backslashes, commas or surrounding spaces reads unambiguously unquoted. */
const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const QUOTE_WORTHY = /[",\\]/;

function head(value: string, max: number): { text: string; cut: boolean } {
  if (value.length <= max) return { text: value, cut: false };
  // Never split a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(value[max - 1] ?? '') ? max - 1 : max;
  return { text: value.slice(0, end), cut: true };
}

/** A string as it is echoed: plain ids unquoted, anything else JSON-quoted; cut after `max` characters. */
export function echo(value: string, max = ECHO_MAX_CHARS): string {
  const { text, cut } = head(value, max);
  return `${PLAIN.test(text) && !QUOTE_WORTHY.test(text) ? text : JSON.stringify(text)}${cut ? '…' : ''}`;
}

/** Any value as it is echoed: strings always JSON-quoted (cut after `max`), other values by their type. */
export function echoValue(value: unknown, max = ECHO_MAX_CHARS): string {
  if (typeof value === 'string') {
    const { text, cut } = head(value, max);
    return `${JSON.stringify(text)}${cut ? '…' : ''}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'an invalid Date';
  return `a ${typeof value}`;
}

/** A list as it is echoed: the first `maxItems` values, then "and N more". */
export function echoList(
  values: readonly string[],
  maxItems = ECHO_MAX_ITEMS,
  format: (value: string) => string = (v) => echo(v),
): string {
  const shown = values.slice(0, maxItems).map(format).join(', ');
  return values.length > maxItems ? `${shown} and ${values.length - maxItems} more` : shown;
}
