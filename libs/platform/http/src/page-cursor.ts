import { ProblemException } from './problem';

/** Opaque pagination cursor: base64url JSON of the last key served plus a fingerprint of the filters. */
export function encodeCursor(key: unknown, filter: string): string {
  return Buffer.from(JSON.stringify({ k: key, f: filter }), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor}; returns undefined when it is malformed or was made for other filters
 * (the caller answers 400).
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

/** 400 problem for a cursor that does not belong to the query. */
export function badCursor(): ProblemException {
  return ProblemException.validation(
    'the cursor is malformed or was issued for other filters; repeat the query without it',
    [
      {
        field: 'query.cursor',
        reason: 'invalid_cursor',
        message: 'pass back nextCursor unchanged, with the same filters',
      },
    ],
  );
}
