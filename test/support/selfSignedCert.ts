// A self-signed certificate for 127.0.0.1 from Debian's openssl, for the TLS tests of
// `tessera serve` (Node and Chromium): PEM files in `dir`, or an error with openssl's words.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function selfSignedCert(dir: string): { cert: string; key: string } {
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1'];
  const made = spawnSync('openssl', [...args, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr || made.error?.message}`);
  return { cert, key };
}
