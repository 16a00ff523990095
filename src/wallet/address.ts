// SS58 addresses in Bittensor's format (prefix 42): the canonical text form of an account, and
// the address a bare session key stands for when no wallet vouches for it.
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { WalletError } from './errors';

export const SS58_PREFIX = 42;

/** Any SS58 or hex form of an account, re-encoded with prefix 42. Throws WalletError. */
export function toBittensorAddress(address: string): string {
  try {
    return encodeAddress(decodeAddress(address), SS58_PREFIX);
  } catch (err) {
    throw new WalletError('bad-address', `${JSON.stringify(address.slice(0, 80))} is not an account address: ${(err as Error).message}`);
  }
}

/** Refuses any text that is not already the prefix-42 form, so one account has one spelling. */
export function canonicalAddress(address: string): string {
  if (address.length > 64 || toBittensorAddress(address) !== address)
    throw new WalletError('bad-address', `${JSON.stringify(address.slice(0, 80))} is not a prefix-42 SS58 address`);
  return address;
}

/** The address of a session key itself: where its data pages come from when it has no wallet. */
export function keyAddress(publicKey: Uint8Array): string {
  return encodeAddress(publicKey, SS58_PREFIX);
}
