// Short-lived TURN credentials by the TURN REST convention that coturn's `use-auth-secret`
// checks: username "<expiry unix seconds>:<user>", password base64(HMAC-SHA1(secret, username)).
import { createHmac } from 'node:crypto';

export interface TurnCredential {
  username: string;
  credential: string;
  /** When the TURN server stops accepting it (ms since the epoch). */
  expiresAt: number;
}

/** A secret shorter than this is guessable offline from one captured credential. */
export const MIN_TURN_SECRET_LENGTH = 16;

export function turnCredential(secret: string, user: string, ttlSeconds: number, nowMs: number): TurnCredential {
  if (secret.length < MIN_TURN_SECRET_LENGTH) throw new RangeError(`the TURN secret must be at least ${MIN_TURN_SECRET_LENGTH} characters`);
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  // The user part is only a label; ':' would split the username differently on the TURN side.
  const username = `${expiry}:${user.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64'), expiresAt: expiry * 1000 };
}
