// Submitting weights to a Bittensor subnet: SS58 addresses (hotkeys) to uids through the
// chain's metagraph, then SubtensorModule.set_weights(netuid, uids, weights, version_key).
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { AddressWeight } from '../validator/weights';

export interface SubtensorTarget {
  endpoint: string;
  netuid: number;
  versionKey: number;
}

export class SubtensorClient {
  private constructor(
    private readonly api: ApiPromise,
    private readonly target: SubtensorTarget,
    private readonly hotkey: KeyringPair,
  ) {}

  static async connect(target: SubtensorTarget, hotkey: KeyringPair): Promise<SubtensorClient> {
    const api = await ApiPromise.create({ provider: new WsProvider(target.endpoint), throwOnConnect: true, noInitWarn: true });
    if (!api.tx.subtensorModule?.setWeights) throw new Error(`${target.endpoint} is not a subtensor chain (no SubtensorModule.set_weights)`);
    return new SubtensorClient(api, target, hotkey);
  }

  /** Addresses registered on the subnet, with their uids; the rest cannot receive weight. */
  async uids(addresses: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const a of addresses) {
      const uid = (await this.api.query.subtensorModule.uids(this.target.netuid, a)) as unknown as { isSome: boolean; unwrap(): { toNumber(): number } };
      if (uid.isSome) out.set(a, uid.unwrap().toNumber());
    }
    return out;
  }

  /** Builds, signs and submits the extrinsic; resolves when it is in a block. */
  async setWeights(weights: readonly AddressWeight[]): Promise<{ uids: number[]; skipped: string[]; blockHash: string }> {
    const uidOf = await this.uids(weights.map((w) => w.address));
    const kept = weights.filter((w) => uidOf.has(w.address));
    const uids = kept.map((w) => uidOf.get(w.address) as number);
    const tx = this.api.tx.subtensorModule.setWeights(
      this.target.netuid,
      uids,
      kept.map((w) => w.weight),
      this.target.versionKey,
    );
    const blockHash = await new Promise<string>((resolve, reject) => {
      tx.signAndSend(this.hotkey, ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(`set_weights failed: ${dispatchError.toString()}`));
        else if (status.isInBlock) resolve(status.asInBlock.toHex());
      }).catch(reject);
    });
    return { uids, skipped: weights.filter((w) => !uidOf.has(w.address)).map((w) => w.address), blockHash };
  }

  async close(): Promise<void> {
    await this.api.disconnect();
  }
}
