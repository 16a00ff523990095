// Checkpoint bytes in IndexedDB (tab or worker), one slot per key: the page resumes from it
// after a reload. Integrity is the codec's job (checkpoint.ts); this only stores bytes.
import { idbStore } from '../storage/idbStore';

const store = idbStore('tessera', 'checkpoints');

export async function storeCheckpoint(key: string, bytes: Uint8Array): Promise<void> {
  await store.put(key, bytes);
}

export async function loadStoredCheckpoint(key: string): Promise<Uint8Array | undefined> {
  const value = await store.get(key);
  return value instanceof Uint8Array ? value : undefined;
}

export async function deleteStoredCheckpoint(key: string): Promise<void> {
  await store.delete(key);
}
