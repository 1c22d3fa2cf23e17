// Types for the untyped CommonJS dev dependencies the benchmarks compare
// against, imported as `import x from '...'` (their module.exports).

declare module 'another-json' {
  const anotherJson: {
    /** Canonical JSON (keys sorted by UTF-16 code unit): matrix-org's JS implementation. */
    stringify(value: unknown): string;
  };
  export = anotherJson;
}

declare module 'sodium-native' {
  const sodium: {
    /** libsodium's crypto_sign_verify_detached: whether `signature` on `message` is valid for `publicKey`. */
    crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
    /** Fills `publicKey` (32 bytes) and `secretKey` (64 bytes) from a 32-byte seed. */
    crypto_sign_seed_keypair(publicKey: Buffer, secretKey: Buffer, seed: Buffer): void;
    /** Writes the 64-byte signature of `message` with `secretKey` into `signature`. */
    crypto_sign_detached(signature: Buffer, message: Buffer, secretKey: Buffer): void;
  };
  export = sodium;
}
