/**
 * The test CA (both backends): certificates that node's X.509 parser reads as
 * intended, and that a TLS client trusting only the CA accepts for the IP.
 */
import { X509Certificate } from 'node:crypto';
import { connect, createServer } from 'node:tls';
import { describe, expect, test } from 'vitest';
import { type CertBackend, createTestCa, hasOpenssl, type TestCa } from './certs.js';

/** Connects to a TLS server with `leaf` on `host`, trusting `ca`; resolves `authorized`. */
function handshake(ca: TestCa, leaf: { certPem: string; keyPem: string }, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end());
    server.listen(0, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      const socket = connect({ host, port, ca: ca.certPem });
      socket.once('secureConnect', () => {
        resolve(socket.authorized);
        socket.destroy();
        server.close();
      });
      socket.once('error', (e) => {
        reject(e);
        socket.destroy();
        server.close();
      });
    });
  });
}

const backends: CertBackend[] = ['node', 'openssl'];

describe.each(backends)('test CA (%s)', (backend) => {
  const skip = backend === 'openssl' && !hasOpenssl();

  test.skipIf(skip)('issues IP-literal leaf certificates the CA verifies', () => {
    const ca = createTestCa({ backend });
    expect(ca.backend).toBe(backend);
    const leaf = ca.issue({ ips: ['127.0.0.2', '::1'], dns: ['localhost'] });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.2')).toBe('127.0.0.2');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkIP('127.0.0.3')).toBeUndefined();
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 86400_000);
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
    // Another CA's leaf does not verify.
    const other = createTestCa({ backend });
    expect(new X509Certificate(other.issue({ ips: ['127.0.0.2'] }).certPem).verify(caCert.publicKey)).toBe(false);
  });

  test.skipIf(skip)('serves TLS that a client trusting only the CA accepts', async () => {
    const ca = createTestCa({ backend });
    expect(await handshake(ca, ca.issue({ ips: ['127.0.0.2'] }), '127.0.0.2')).toBe(true);
    // The wrong IP, or a different CA, is refused.
    await expect(handshake(ca, ca.issue({ ips: ['127.0.0.9'] }), '127.0.0.2')).rejects.toThrow(/IP/);
    const other = createTestCa({ backend });
    await expect(handshake(ca, other.issue({ ips: ['127.0.0.2'] }), '127.0.0.2')).rejects.toThrow();
  });
});
