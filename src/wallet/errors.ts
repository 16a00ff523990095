// Typed wallet errors: every refusal of a certificate, a contribution's authority or a key
// source has a code (for tests, logs and the UI) and a sentence a person can act on.
export type WalletErrorCode =
  | 'bad-address'
  | 'bad-certificate'
  | 'bad-certificate-signature'
  | 'wrong-run'
  | 'expired'
  | 'not-yet-valid'
  | 'session-mismatch'
  | 'address-mismatch'
  | 'unclaimed-address'
  | 'bad-key-source';

export class WalletError extends Error {
  constructor(
    readonly code: WalletErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WalletError';
  }
}
