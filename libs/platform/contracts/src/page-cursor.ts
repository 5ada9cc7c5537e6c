import { z } from 'zod';

/**
 * The `cursor` query parameter of every paginated REST route: the `nextCursor` of the previous page, passed back
 * unchanged. Every cursor the platform issues is base64url text of 1–512 characters; anything else is a 400 by this
 * schema, and a well-formed cursor that names no page of the query answers 404 `urn:strata:problem:invalid-cursor`.
 */
export const PageCursorSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,512}$/, 'expected the nextCursor of a previous page (base64url)')
  .describe('The nextCursor of the previous page, unchanged (same filters); omit for the first page.');
