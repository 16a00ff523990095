// Checkpoint bytes in IndexedDB (tab or worker), one slot per key: the page resumes from it
// after a reload. Integrity is the codec's job (checkpoint.ts); this only stores bytes.

const DB = 'tessera';
const STORE = 'checkpoints';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB is unavailable'));
  });
}

function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return open().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const request = work(tx.objectStore(STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(request.result);
        };
        tx.onerror = tx.onabort = () => {
          db.close();
          reject(tx.error ?? new Error('IndexedDB transaction failed'));
        };
      }),
  );
}

export async function storeCheckpoint(key: string, bytes: Uint8Array): Promise<void> {
  await run('readwrite', (s) => s.put(bytes, key));
}

export async function loadStoredCheckpoint(key: string): Promise<Uint8Array | undefined> {
  const value = await run<unknown>('readonly', (s) => s.get(key));
  return value instanceof Uint8Array ? value : undefined;
}

export async function deleteStoredCheckpoint(key: string): Promise<void> {
  await run('readwrite', (s) => s.delete(key));
}
