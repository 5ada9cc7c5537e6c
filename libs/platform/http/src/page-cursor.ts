import { ProblemException, problemType } from './problem';

/** Opaque pagination cursor: base64url JSON of the last key served plus a fingerprint of the filters. */
export function encodeCursor(key: unknown, filter: string): string {
  return Buffer.from(JSON.stringify({ k: key, f: filter }), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor}; returns undefined when it is malformed or was made for other filters
 * (the caller answers {@link invalidCursor}).
 */
export function decodeCursor<K>(cursor: string, filter: string, check: (k: unknown) => k is K): K | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown; f?: unknown };
    if (v.f !== filter || !check(v.k)) return undefined;
    return v.k;
  } catch {
    return undefined;
  }
}

/**
 * The one answer of every route to a well-formed cursor that names no page of the query (issued for other filters,
 * another series or another store): 404 `urn:strata:problem:invalid-cursor`. The URI with that cursor names a page
 * that does not exist; a malformed cursor is a 400 of `PageCursorSchema` (`@strata/platform-contracts`).
 */
export function invalidCursor(detail = 'the cursor names no page of this query'): ProblemException {
  return new ProblemException({
    type: problemType('invalid-cursor'),
    status: 404,
    detail: `${detail}; pass back nextCursor unchanged, with the same filters, or repeat the query without it`,
    errors: [
      {
        field: 'query.cursor',
        reason: 'invalid_cursor',
        message: 'pass back nextCursor unchanged, with the same filters',
      },
    ],
  });
}
