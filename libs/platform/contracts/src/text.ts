import { z } from 'zod';

/**
 * ECMAScript white space and line terminators, the characters `String.prototype.trim` removes, spelled out so that
 * every regex engine (a client's, a fuzzer's) reads the class the same way.
 */
const JS_WHITE_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/**
 * A text field that must hold something besides white space, trimmed, at most `max` characters after trimming: the
 * JSON Schema says the same (`pattern` of a character outside white space; `maxLength`).
 */
export function nonBlankText(max: number): z.ZodString {
  return z
    .string()
    .regex(new RegExp(`[^${JS_WHITE_SPACE}]`), 'must not be blank')
    .trim()
    .max(max);
}
