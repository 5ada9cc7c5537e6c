/**
 * NATS subject matching: `*` matches exactly one token, `>` (last token only) matches one or more tokens.
 * @returns true when `subject` is matched by `pattern`.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * Core-NATS subject that request/reply travels on for a command subject: `rpc.<subject>`. Kept outside the domain
 * stream's `<domain>.>` on purpose: a stream capturing a request would answer it with its own PubAck.
 */
export function requestSubject(subject: string): string {
  return `rpc.${subject}`;
}
