// A keyed store in IndexedDB (tab or worker), one database per owner: small values that must
// outlive a reload, such as checkpoints and session keys. Integrity is the owner's job.

export interface KeyedStore {
  put(key: string, value: unknown): Promise<void>;
  get(key: string): Promise<unknown>;
  delete(key: string): Promise<void>;
}

export function idbStore(database: string, store: string): KeyedStore {
  const open = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(database, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(store);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB is unavailable'));
    });
  const run = <T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> =>
    open().then(
      (db) =>
        new Promise<T>((resolve, reject) => {
          const tx = db.transaction(store, mode);
          const request = work(tx.objectStore(store));
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
  return {
    put: async (key, value) => void (await run('readwrite', (s) => s.put(value, key))),
    get: (key) => run<unknown>('readonly', (s) => s.get(key)),
    delete: async (key) => void (await run('readwrite', (s) => s.delete(key))),
  };
}
