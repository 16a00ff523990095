// Certificates and the authority of contribution headers: what verifies (sr25519 session keys,
// extension-wrapped and headless certificates) and every refusal the wallet issue names.
import { u8aWrapBytes } from '@polkadot/util';
import { describe, expect, it } from 'vitest';
import { chunkPlan } from '../../src/compress/chunks';
import { SparseLoCoEncoder } from '../../src/compress/sparseloco';
import { checkConfig } from '../../src/model/config';
import { paramLayout } from '../../src/model/layout';
import { runGauntlet } from '../../src/validator/gauntlet';
import type { Candidate } from '../../src/validator/manifest';
import { randomFloats } from '../support/random';
import { ProtocolError } from '../../src/protocol/bytes';
import { decodeContribution, decodeManifest, signContribution, type ContributionFields } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer, sr25519Signer, type Signer } from '../../src/protocol/keys';
import { keyAddress, toBittensorAddress } from '../../src/wallet/address';
import { sessionIdentity, verifyContributionAuthority, type Identity } from '../../src/wallet/authority';
import {
  decodeCertificate,
  delegationMessage,
  delegationText,
  encodeCertificate,
  verifyCertificate,
  type Delegation,
  type DelegationFields,
} from '../../src/wallet/certificate';
import { WalletError } from '../../src/wallet/errors';
import { delegateSession, signDelegationWithPair, signerFromSecret, walletPairFromSecret } from '../../src/wallet/keySource';

const RUN = 'run-1';
const T0 = Date.UTC(2026, 10, 25, 12); // the window's start, ms
const alice = walletPairFromSecret('//Alice');
const bob = walletPairFromSecret('//Bob');
const session = sr25519Signer(new Uint8Array(32).fill(5));

function fields(over: Partial<DelegationFields> = {}): DelegationFields {
  const issuedAt = T0 / 1000 - 3600;
  return {
    runId: RUN,
    sessionScheme: session.scheme,
    sessionKey: session.publicKey,
    walletAddress: alice.address,
    issuedAt,
    expiresAt: issuedAt + 7 * 86_400,
    ...over,
  };
}

function header(identity: Identity, over: Partial<ContributionFields> = {}): ContributionFields {
  return {
    runId: RUN,
    window: 3,
    baseHash: modelHash(Float32Array.of(1, 2)),
    payloadHash: contentHash(Uint8Array.of(9)),
    payloadBytes: 1,
    peerAddress: identity.address,
    steps: 10,
    tokens: 640,
    certificate: identity.certificate,
    ...over,
  };
}

/** Sign, send over the wire (decode), and ask what the header may claim. */
function authority(f: ContributionFields, signer: Signer, atMs = T0): string | null {
  return verifyContributionAuthority(decodeContribution(signContribution(f, signer).bytes, RUN), atMs).rewardAddress;
}

function code(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (err) {
    if (err instanceof WalletError || err instanceof ProtocolError) return err.code;
    throw err;
  }
}

describe('delegation certificates', () => {
  it('a headless wallet and an extension-style signature both verify, and round-trip', () => {
    const cert = signDelegationWithPair(fields(), alice);
    expect(() => verifyCertificate(cert, { runId: RUN, atMs: T0 })).not.toThrow();
    expect(decodeCertificate(encodeCertificate(cert))).toEqual(cert);
    // Some wallets sign the bare bytes: signatureVerify accepts both forms.
    const bare = { ...cert, signature: alice.sign(delegationMessage(cert)) };
    expect(() => verifyCertificate(bare, { runId: RUN, atMs: T0 })).not.toThrow();
    // An Ed25519 wallet account works too.
    const edWallet = walletPairFromSecret('//Alice//ed');
    expect(() => verifyCertificate(signDelegationWithPair(fields({ walletAddress: edWallet.address }), edWallet), { runId: RUN, atMs: T0 })).not.toThrow();
  });

  it('reads as a statement a person can approve, naming every field', () => {
    const text = delegationText(fields());
    expect(text).toContain(`run: ${RUN}`);
    expect(text).toContain(`account: ${alice.address}`);
    expect(text).toMatch(/session key: sr25519:0x[0-9a-f]{64}/);
    expect(text).toContain('expires: 2026-12-02T11:00:00Z');
  });

  it('refuses another run, expiry, a future issue date, the wrong signer and tampering', () => {
    const cert = signDelegationWithPair(fields(), alice);
    expect(code(() => verifyCertificate(cert, { runId: 'run-2', atMs: T0 }))).toBe('wrong-run');
    expect(code(() => verifyCertificate(cert, { runId: RUN, atMs: cert.expiresAt * 1000 }))).toBe('expired');
    expect(code(() => verifyCertificate(cert, { runId: RUN, atMs: (cert.issuedAt - 3600) * 1000 }))).toBe('not-yet-valid');
    // Bob signs a certificate that names Alice.
    const forged: Delegation = { ...cert, signature: bob.sign(u8aWrapBytes(delegationMessage(cert))) };
    expect(code(() => verifyCertificate(forged, { runId: RUN, atMs: T0 }))).toBe('bad-certificate-signature');
    // Any change to a signed field (a later expiry, another session key) breaks the signature.
    expect(code(() => verifyCertificate({ ...cert, expiresAt: cert.expiresAt + 1 }, { runId: RUN, atMs: T0 }))).toBe('bad-certificate-signature');
    expect(code(() => verifyCertificate({ ...cert, sessionKey: ed25519Signer(new Uint8Array(32)).publicKey }, { runId: RUN, atMs: T0 }))).toBe(
      'bad-certificate-signature',
    );
  });

  it('is domain-separated: Alice signing other bytes of the same fields does not make a certificate', () => {
    const cert = signDelegationWithPair(fields(), alice);
    const encoded = encodeCertificate({ ...cert, signature: new Uint8Array(0) });
    const other = { ...cert, signature: alice.sign(u8aWrapBytes(encoded)) };
    expect(code(() => verifyCertificate(other, { runId: RUN, atMs: T0 }))).toBe('bad-certificate-signature');
  });

  it('refuses certificates that are too long-lived, backwards, or name a non-canonical address', () => {
    expect(code(() => signDelegationWithPair(fields({ expiresAt: fields().issuedAt + 91 * 86_400 }), alice))).toBe('bad-certificate');
    expect(code(() => signDelegationWithPair(fields({ expiresAt: fields().issuedAt }), alice))).toBe('bad-certificate');
    const polkadotForm = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5'; // Alice with prefix 0
    expect(toBittensorAddress(polkadotForm)).toBe(alice.address);
    expect(code(() => signDelegationWithPair(fields({ walletAddress: polkadotForm }), alice))).toBe('bad-address');
    expect(code(() => signDelegationWithPair(fields({ walletAddress: bob.address }), alice))).toBe('address-mismatch');
  });

  it('decodes hostile bytes only into WalletErrors', () => {
    const bytes = encodeCertificate(signDelegationWithPair(fields(), alice));
    for (let n = 0; n < bytes.length; n++) expect(code(() => decodeCertificate(bytes.subarray(0, n)))).toBe('bad-certificate');
    expect(code(() => decodeCertificate(Uint8Array.from([...bytes, 0])))).toBe('bad-certificate');
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i] ^= 0x40;
      expect(['accepted', 'bad-certificate', 'bad-address']).toContain(code(() => decodeCertificate(t)));
    }
  });
});

describe('contribution authority', () => {
  const certified = sessionIdentity(session, delegateSession(alice, session, RUN, T0 - 3_600_000));
  const anonymous = sessionIdentity(session);

  it('a certified session key earns for the wallet; an anonymous one for nobody', () => {
    expect(certified.address).toBe(alice.address);
    expect(authority(header(certified), session)).toBe(alice.address);
    expect(anonymous.address).toBe(keyAddress(session.publicKey));
    expect(authority(header(anonymous), session)).toBeNull();
  });

  it('refuses a tampered header and a signature by the wrong key', () => {
    const signed = signContribution(header(certified), session);
    for (const at of [8, signed.bytes.length - 100, signed.bytes.length - 1]) {
      const t = signed.bytes.slice();
      t[at] ^= 1;
      expect(
        code(() => decodeContribution(t, RUN)),
        `byte ${at}`,
      ).not.toBe('accepted');
    }
    // Signed by another key that puts the session key's public key in the header.
    const wrong = signContribution(header(certified), sr25519Signer(new Uint8Array(32).fill(6)));
    const spliced = signed.bytes.slice();
    spliced.set(wrong.signature, spliced.length - 64);
    expect(code(() => decodeContribution(spliced, RUN))).toBe('bad-signature');
  });

  it('refuses a certificate for another run, and one expired at the window start', () => {
    const otherRun = sessionIdentity(session, delegateSession(alice, session, 'run-2', T0 - 3_600_000));
    expect(code(() => authority(header(otherRun), session))).toBe('wrong-run');
    expect(code(() => authority(header(certified), session, T0 + 31 * 86_400_000))).toBe('expired');
  });

  it('refuses a session key that claims an address no certificate gives it', () => {
    // No certificate, Alice's address: the rewards would go to someone who never delegated.
    expect(code(() => authority(header(anonymous, { peerAddress: alice.address }), session))).toBe('unclaimed-address');
    // Alice's certificate is for `session`; another key attaching it is refused.
    const thief = sr25519Signer(new Uint8Array(32).fill(7));
    expect(code(() => authority(header(certified), thief))).toBe('session-mismatch');
    // The certificate is Alice's but the header names Bob.
    expect(code(() => authority(header(certified, { peerAddress: bob.address }), session))).toBe('address-mismatch');
  });

  it('binds a header to its window and payload: replaying it elsewhere is refused', () => {
    const signed = signContribution(header(certified), session);
    // The window (and the payload hash) are signed: changing either breaks the signature.
    const body = signed.bytes.slice();
    const windowAt = 4 + RUN.length; // after the run id's length and bytes
    new DataView(body.buffer).setUint32(windowAt, 4, true);
    expect(code(() => decodeContribution(body, RUN))).toBe('bad-signature');
    // Unchanged, it still says window 3: a validator closing window 4 refuses it (below).
    expect(decodeContribution(signed.bytes, RUN).window).toBe(3);
  });

  it('a signature over a contribution is no manifest, and a manifest key cannot sign headers for a wallet', () => {
    const signed = signContribution(header(anonymous), session);
    expect(code(() => decodeManifest(signed.bytes, RUN))).not.toBe('accepted');
    expect(code(() => sessionIdentity(ed25519Signer(new Uint8Array(32).fill(1)), delegateSession(alice, session, RUN, T0)))).toBe('session-mismatch');
  });
});

describe("the validator's window decision", () => {
  const config = checkConfig({ vocabSize: 70, contextLength: 20, embedDim: 72, layers: 1, heads: 2 });
  const layout = paramLayout(config);
  const theta = randomFloats(layout.totalFloats, 1);

  async function candidate(identity: Identity, signer: Signer, window: number, seed: number, over: Partial<ContributionFields> = {}): Promise<Candidate> {
    const after = theta.map((v, i) => v - 0.01 * Math.sin(i * 0.37 + seed));
    const { bytes } = await new SparseLoCoEncoder(chunkPlan(layout), layout.totalFloats).encode(theta, after);
    const h = signContribution(
      { ...header(identity, { window, baseHash: modelHash(theta), payloadHash: contentHash(bytes), payloadBytes: bytes.length }), ...over },
      signer,
    );
    return { header: decodeContribution(h.bytes, RUN), payload: bytes };
  }

  it('accepts certified and anonymous keys once per address, and refuses replays and unclaimed addresses', async () => {
    const carol = sr25519Signer(new Uint8Array(32).fill(8));
    const dave = sr25519Signer(new Uint8Array(32).fill(9));
    const daveCertified = sessionIdentity(dave, delegateSession(alice, dave, RUN, T0 - 1000));
    const candidates = [
      await candidate(sessionIdentity(session, delegateSession(alice, session, RUN, T0 - 1000)), session, 4, 1),
      await candidate(sessionIdentity(carol), carol, 4, 2),
      await candidate(sessionIdentity(carol), carol, 3, 3), // last window's header, replayed
      await candidate(daveCertified, dave, 4, 4), // a second session key for Alice in one window
      await candidate(sessionIdentity(dave), dave, 4, 5, { peerAddress: bob.address }), // claims Bob, no certificate
    ];
    const decide = (list: Candidate[]) =>
      runGauntlet({
        runId: RUN,
        window: 4,
        windowStartMs: T0,
        closeAt: T0 + 60_000,
        minSteps: 1,
        outerLr: 1,
        sequencesPerStep: 2,
        seqLen: 16,
        corpusLength: 10_000,
        theta,
        plan: chunkPlan(layout),
        arrivals: list.map((c) => ({ ...c, arrivedAt: T0 })),
        signer: ed25519Signer(new Uint8Array(32).fill(1)),
      });
    const d = await decide(candidates);
    expect(d.accepted.map((c) => c.header.peerAddress).sort()).toEqual([alice.address, keyAddress(carol.publicKey)].sort());
    const reasons = d.rejected.map((r) => r.reason).join('\n');
    expect(reasons).toContain('for window 3, this is window 4');
    expect(reasons).toContain('unclaimed-address');
    expect(d.rejected).toHaveLength(3);
    // Which of Alice's two keys wins is fixed by id order, never arrival order.
    const flipped = await decide([...candidates].reverse());
    expect(flipped.manifest.bytes).toEqual(d.manifest.bytes);
  });
});

describe('key sources', () => {
  it('reads Ed25519 hex seeds, mnemonics and secret URIs, and never echoes a bad secret', () => {
    expect(signerFromSecret('11'.repeat(32)).scheme).toBe(1);
    const fromUri = signerFromSecret('//Alice');
    expect(fromUri.scheme).toBe(2);
    expect(keyAddress(fromUri.publicKey)).toBe(alice.address);
    // Substrate's development mnemonic: //Alice is derived from it.
    const mnemonic = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
    expect(keyAddress(signerFromSecret(`${mnemonic}//Alice`).publicKey)).toBe(alice.address);
    expect(keyAddress(signerFromSecret(mnemonic).publicKey)).not.toBe(alice.address);
    // Short strings (which the keyring would pad into a raw seed) and bad checksums are refused.
    expect(code(() => signerFromSecret('abcd'))).toBe('bad-key-source');
    expect(code(() => signerFromSecret(mnemonic.replace('walk', 'wall')))).toBe('bad-key-source');
    expect(signerFromSecret(`0x${'22'.repeat(32)}`).scheme).toBe(2);
    try {
      walletPairFromSecret('correct horse battery staple secretword');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WalletError);
      expect((err as Error).message).not.toContain('secretword');
    }
  });
});
