/**
 * A throwaway certificate authority for live federation tests: a CA and
 * leaf certificates for IP-literal (and DNS) names, ECDSA P-256, valid for a
 * few days. Made with the openssl CLI when it is on the PATH, otherwise with
 * node:crypto and a small DER writer (node:crypto signs but cannot build
 * certificates). Both give the same shape of certificate: a CA with
 * basicConstraints CA:TRUE and keyCertSign; leaves with SANs, serverAuth and
 * clientAuth, subject and authority key identifiers.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How certificates are made: the openssl CLI or node:crypto. */
export type CertBackend = 'openssl' | 'node';

/** A certificate and its private key, PEM. */
export interface CertPair {
  /** The certificate, PEM. */
  certPem: string;
  /** Its private key, PKCS#8 PEM. */
  keyPem: string;
}

/** The names a leaf certificate is for. */
export interface LeafNames {
  /** IP addresses (SAN iPAddress), e.g. `127.0.0.2`. */
  ips?: string[];
  /** DNS names (SAN dNSName). */
  dns?: string[];
}

/** A test certificate authority. */
export interface TestCa extends CertPair {
  /** Which backend made it (and makes its leaves). */
  backend: CertBackend;
  /** Issues a leaf certificate for the names, signed by this CA. */
  issue(names: LeafNames): CertPair;
}

/** Options for {@link createTestCa}. */
export interface TestCaOptions {
  /** Force a backend; default: openssl when found, else node. */
  backend?: CertBackend;
  /** The CA's common name. */
  commonName?: string;
  /** Validity in days from an hour ago; default 7. */
  days?: number;
}

let opensslFound: boolean | undefined;

/** Whether the openssl CLI is on the PATH. */
export function hasOpenssl(): boolean {
  if (opensslFound === undefined) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      opensslFound = true;
    } catch {
      opensslFound = false;
    }
  }
  return opensslFound;
}

/** Creates a CA. Synchronous: a few milliseconds with either backend. */
export function createTestCa(options: TestCaOptions = {}): TestCa {
  const backend = options.backend ?? (hasOpenssl() ? 'openssl' : 'node');
  const commonName = options.commonName ?? 'matrix-serverlib test CA';
  const days = options.days ?? 7;
  return backend === 'openssl' ? opensslCa(commonName, days) : nodeCa(commonName, days);
}

function checkNames(names: LeafNames): { ips: string[]; dns: string[] } {
  const ips = names.ips ?? [];
  const dns = names.dns ?? [];
  if (ips.length + dns.length === 0) throw new Error('A leaf certificate needs at least one name');
  for (const ip of ips) if (isIP(ip) === 0) throw new Error(`Not an IP address: ${ip}`);
  for (const d of dns) if (!/^[A-Za-z0-9.*-]+$/.test(d)) throw new Error(`Not a DNS name: ${d}`);
  return { ips, dns };
}

// ---------------------------------------------------------------- openssl

function opensslCa(commonName: string, days: number): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'msl-ca-'));
  try {
    const key = join(dir, 'ca.key');
    const cert = join(dir, 'ca.crt');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-sha256',
      '-days',
      String(days),
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
      '-out',
      cert,
    ]);
    const ca: CertPair = { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
    return { ...ca, backend: 'openssl', issue: (names) => opensslLeaf(ca, names, days) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opensslLeaf(ca: CertPair, names: LeafNames, days: number): CertPair {
  const { ips, dns } = checkNames(names);
  const dir = mkdtempSync(join(tmpdir(), 'msl-leaf-'));
  try {
    const p = (f: string) => join(dir, f);
    writeFileSync(p('ca.crt'), ca.certPem);
    writeFileSync(p('ca.key'), ca.keyPem, { mode: 0o600 });
    const san = [...ips.map((ip) => `IP:${ip}`), ...dns.map((d) => `DNS:${d}`)].join(',');
    writeFileSync(
      p('ext.cnf'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${san}`,
        'subjectKeyIdentifier=hash',
        'authorityKeyIdentifier=keyid',
        '',
      ].join('\n'),
    );
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('leaf.key')]);
    openssl(['req', '-new', '-key', p('leaf.key'), '-subj', `/CN=${ips[0] ?? dns[0]}`, '-out', p('leaf.csr')]);
    openssl([
      'x509',
      '-req',
      '-in',
      p('leaf.csr'),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-set_serial',
      `0x${serial().toString('hex')}`,
      '-sha256',
      '-days',
      String(days),
      '-extfile',
      p('ext.cnf'),
      '-out',
      p('leaf.crt'),
    ]);
    return { certPem: readFileSync(p('leaf.crt'), 'utf8'), keyPem: readFileSync(p('leaf.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(e)}`);
  }
}

// ---------------------------------------------------------------- node:crypto

interface NodeCaState {
  key: KeyObject;
  name: Buffer;
  keyId: Buffer;
}

function nodeCa(commonName: string, days: number): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const name = der.name(commonName);
  const keyId = subjectKeyId(spki);
  const certDer = buildCertificate({
    issuer: name,
    subject: name,
    spki,
    issuerKey: privateKey,
    days,
    extensions: [
      der.extension(OID.basicConstraints, true, der.seq(der.bool(true))),
      der.extension(OID.keyUsage, true, der.bitString(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
      der.extension(OID.subjectKeyIdentifier, false, der.octets(keyId)),
    ],
  });
  const state: NodeCaState = { key: privateKey, name, keyId };
  return {
    certPem: pem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    backend: 'node',
    issue: (names) => nodeLeaf(state, names, days),
  };
}

function nodeLeaf(ca: NodeCaState, names: LeafNames, days: number): CertPair {
  const { ips, dns } = checkNames(names);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const sans = [
    ...dns.map((d) => der.tlv(0x82, Buffer.from(d, 'ascii'))),
    ...ips.map((ip) => der.tlv(0x87, ipBytes(ip))),
  ];
  const certDer = buildCertificate({
    issuer: ca.name,
    subject: der.name(ips[0] ?? dns[0] ?? ''),
    spki,
    issuerKey: ca.key,
    days,
    extensions: [
      der.extension(OID.basicConstraints, true, der.seq()),
      der.extension(OID.keyUsage, true, der.bitString(Buffer.from([0x80]), 7)), // digitalSignature
      der.extension(OID.extKeyUsage, false, der.seq(der.oid(OID.serverAuth), der.oid(OID.clientAuth))),
      der.extension(OID.subjectAltName, false, der.seq(...sans)),
      der.extension(OID.subjectKeyIdentifier, false, der.octets(subjectKeyId(spki))),
      der.extension(OID.authorityKeyIdentifier, false, der.seq(der.tlv(0x80, ca.keyId))),
    ],
  });
  return {
    certPem: pem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  issuerKey: KeyObject;
  days: number;
  extensions: Buffer[];
}

function buildCertificate(f: CertificateFields): Buffer {
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + f.days * 86400_000);
  const ecdsaWithSha256 = der.seq(der.oid(OID.ecdsaWithSha256));
  const tbs = der.seq(
    der.tlv(0xa0, der.integer(Buffer.from([2]))), // v3
    der.integer(serial()),
    ecdsaWithSha256,
    f.issuer,
    der.seq(der.time(notBefore), der.time(notAfter)),
    f.subject,
    f.spki,
    der.tlv(0xa3, der.seq(...f.extensions)),
  );
  const signature = sign('sha256', tbs, f.issuerKey); // DER-encoded ECDSA signature
  return der.seq(tbs, ecdsaWithSha256, der.bitString(signature, 0));
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Minimal DER writer: just what a certificate needs. */
const der = {
  tlv(tag: number, body: Buffer): Buffer {
    const n = body.length;
    let len: Buffer;
    if (n < 0x80) len = Buffer.from([n]);
    else {
      const bytes: number[] = [];
      for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
      len = Buffer.from([0x80 | bytes.length, ...bytes]);
    }
    return Buffer.concat([Buffer.from([tag]), len, body]);
  },
  seq: (...items: Buffer[]): Buffer => der.tlv(0x30, Buffer.concat(items)),
  set: (...items: Buffer[]): Buffer => der.tlv(0x31, Buffer.concat(items)),
  bool: (v: boolean): Buffer => der.tlv(0x01, Buffer.from([v ? 0xff : 0x00])),
  /** A non-negative INTEGER from big-endian magnitude bytes. */
  integer(magnitude: Buffer): Buffer {
    let i = 0;
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
    let body = magnitude.subarray(i);
    if (((body[0] as number) & 0x80) !== 0) body = Buffer.concat([Buffer.from([0]), body]);
    return der.tlv(0x02, body);
  },
  octets: (b: Buffer): Buffer => der.tlv(0x04, b),
  bitString: (b: Buffer, unusedBits: number): Buffer => der.tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b])),
  oid(dotted: string): Buffer {
    const parts = dotted.split('.').map(Number);
    const out = [40 * (parts[0] as number) + (parts[1] as number)];
    for (const p of parts.slice(2)) {
      const base128: number[] = [p & 0x7f];
      for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
      out.push(...base128);
    }
    return der.tlv(0x06, Buffer.from(out));
  },
  /** UTCTime before 2050, GeneralizedTime from then (RFC 5280 4.1.2.5). */
  time(d: Date): Buffer {
    const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
    return d.getUTCFullYear() < 2050
      ? der.tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
      : der.tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
  },
  name: (commonName: string): Buffer =>
    der.seq(der.set(der.seq(der.oid(OID.commonName), der.tlv(0x0c, Buffer.from(commonName, 'utf8'))))),
  extension: (oid: string, critical: boolean, value: Buffer): Buffer =>
    critical ? der.seq(der.oid(oid), der.bool(true), der.octets(value)) : der.seq(der.oid(oid), der.octets(value)),
};

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function subjectKeyId(spki: Buffer): Buffer {
  // For an EC key the SPKI ends with the BIT STRING: 0x03 len 0x00 <point>; the
  // uncompressed P-256 point is the last 65 bytes.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::".
  const [head = '', tail] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** A random positive 16-byte serial with its top byte in 0x40–0x7f (minimal DER). */
function serial(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x3f) | 0x40;
  return b;
}

function pem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
