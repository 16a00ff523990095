// The store-only ZIP writer: Python's zipfile (an independent reader) opens the archive, finds
// every CRC right and reads back each file's exact bytes; CRC-32 agrees with zlib's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, zipStore } from '../../src/train/zipStore';

describe('zipStore', () => {
  it('computes the same CRC-32 as zlib', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('writes an archive that Python zipfile verifies and reads back byte for byte', () => {
    const binary = Uint8Array.from({ length: 4099 }, (_, i) => (i * 131 + 7) % 256);
    const zip = zipStore('tessera-model', { 'model.safetensors': binary, 'config.json': '{"n_layer": 2}\n', 'README.md': '# Modèle ✓\n' });
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-zip-')), 'model.zip');
    writeFileSync(path, zip);
    const script = [
      'import hashlib, json, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'assert z.testzip() is None',
      'print(json.dumps({i.filename: [i.compress_type, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()}))',
    ].join('\n');
    const listed = JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' })) as Record<string, [number, string]>;
    const sha = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
    expect(listed).toEqual({
      'tessera-model/model.safetensors': [0, sha(binary)],
      'tessera-model/config.json': [0, sha('{"n_layer": 2}\n')],
      'tessera-model/README.md': [0, sha('# Modèle ✓\n')],
    });
  });
});
