/**
 * Text PostgreSQL can store. A NUL character is refused by `text` and `jsonb` alike, and a lone
 * UTF-16 surrogate (which JSON's `\ud800` escapes can carry) is no Unicode at all: `jsonb` refuses
 * it and `text` would silently store U+FFFD instead. Left to the database, either is a 500 halfway
 * through a handler, so requests carrying them are refused up front, field by field.
 */
import type { FieldError } from './problem.ts';

export const UNSTORABLE_TEXT_MESSAGE = 'must be valid Unicode text without NUL characters';

export const isStorableText = (s: string) => !s.includes('\u0000') && s.isWellFormed();

/** Whether any string (value or object key) in `value` cannot be stored: a walk that builds no locations. */
function holdsUnstorableText(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (!isStorableText(item)) return true;
    } else if (Array.isArray(item)) {
      for (const child of item) pending.push(child);
    } else if (item && typeof item === 'object') {
      for (const key of Object.keys(item)) {
        if (!isStorableText(key)) return true;
        pending.push((item as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * The first string (value or object key) in `value` that cannot be stored, as a field error at
 * `location`. Iterative: a parsed JSON body can nest deeper than the call stack goes. Every request
 * body and parameter passes here, nearly all of them storable: those cost one walk without the
 * locations, which only a refusal needs.
 */
export function findUnstorableText(value: unknown, location: string): FieldError | undefined {
  if (!holdsUnstorableText(value)) return undefined;
  const pending: Array<[unknown, string]> = [[value, location]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === 'string') {
      if (!isStorableText(item)) return { location: at, message: UNSTORABLE_TEXT_MESSAGE };
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push([item[i], `${at}.${i}`]);
    } else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item).reverse()) {
        if (!isStorableText(key))
          return { location: at, message: `has a field name that is not valid Unicode text without NUL characters` };
        pending.push([child, `${at}.${key}`]);
      }
    }
  }
  return undefined;
}
