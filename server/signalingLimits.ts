// The signaling server's bookkeeping against crowding: token buckets, each remote address's
// share (connections, joins, messages, bytes) and the lifetime bindings of peer ids to keys.
import { SIGNAL_LIMITS, type AddressLimits } from '../src/p2p/signalingProtocol';

/** `rate` tokens a second up to `burst`; spending more than is there is refused, and spends nothing. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(cost = 1): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

/**
 * The key one remote address is accounted under: an IPv4 address as is (also when Node
 * reports it IPv4-mapped), an IPv6 address by its /64, since anyone holding one /64 can
 * use 2^64 addresses of it.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address.slice(0, 64);
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** What one address may still spend. */
export interface AddressShare {
  readonly key: string;
  connections: number;
  readonly joins: TokenBucket;
  readonly messages: TokenBucket;
  readonly bytes: TokenBucket;
  idleSince: number;
}

export const DEFAULT_ADDRESS_LIMITS: AddressLimits = { ...SIGNAL_LIMITS.perAddress };

/** Every bucket refills fully within this time, so an address idle for longer can be forgotten. */
const FORGET_AFTER_MS = 60_000;

/**
 * Each address's share. An entry outlives its last connection until its buckets have
 * refilled, so closing and reopening connections never refills them early.
 */
export class AddressBook {
  private readonly shares = new Map<string, AddressShare>();

  constructor(
    readonly limits: AddressLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** The share a new connection from `address` counts against, or undefined at the connection cap. */
  open(address: string): AddressShare | undefined {
    const key = addressKey(address);
    const share = this.shares.get(key) ?? this.create(key);
    if (share.connections >= this.limits.connections) return undefined;
    share.connections++;
    return share;
  }

  close(share: AddressShare): void {
    share.connections = Math.max(0, share.connections - 1);
    if (share.connections === 0) share.idleSince = this.now();
  }

  /** Forgets addresses with no connection whose buckets are full again (called now and then). */
  sweep(): void {
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const [key, s] of this.shares) if (s.connections === 0 && s.idleSince < cutoff) this.shares.delete(key);
  }

  get size(): number {
    return this.shares.size;
  }

  private create(key: string): AddressShare {
    const l = this.limits;
    const share: AddressShare = {
      key,
      connections: 0,
      joins: new TokenBucket(l.joinsPerMinute / 60, l.joinsPerMinute, this.now),
      messages: new TokenBucket(l.messagesPerSecond, l.messageBurst, this.now),
      bytes: new TokenBucket(l.bytesPerSecond, l.byteBurst, this.now),
      idleSince: this.now(),
    };
    this.shares.set(key, share);
    return share;
  }
}

/**
 * Which key each peer id was first joined with, kept for the server's lifetime so that no
 * other key can take an id over after its owner's socket dropped. Bounded: when full, the
 * binding that has been offline longest is forgotten; pinned keys' (validators') never are.
 */
export class KeyBindings {
  private readonly keys = new Map<string, string>();
  /** Ids whose holder is offline, oldest first (a Set keeps insertion order). */
  private readonly offline = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly pinned: (key: string) => boolean = () => false,
  ) {}

  holder(id: string): string | undefined {
    return this.keys.get(id);
  }

  /** Whether `id` can be bound now: it already is, or there is room, or an offline binding to forget. */
  canBind(id: string): boolean {
    return this.keys.has(id) || this.keys.size < this.max || this.offline.size > 0;
  }

  /** Binds `id` to `key` (a new holder replaces the old) and marks it online; false when it cannot. */
  bind(id: string, key: string): boolean {
    if (!this.canBind(id)) return false;
    if (!this.keys.has(id) && this.keys.size >= this.max) this.evictOldestOffline();
    this.keys.set(id, key);
    this.offline.delete(id);
    return true;
  }

  /** The id's holder left: its binding stays, and becomes a candidate for eviction when full. */
  release(id: string): void {
    const key = this.keys.get(id);
    if (key === undefined || this.pinned(key)) return;
    this.offline.delete(id);
    this.offline.add(id);
  }

  get size(): number {
    return this.keys.size;
  }

  private evictOldestOffline(): void {
    const oldest = this.offline.values().next();
    if (oldest.done) return;
    this.offline.delete(oldest.value);
    this.keys.delete(oldest.value);
  }
}
