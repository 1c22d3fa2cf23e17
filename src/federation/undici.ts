/**
 * undici, the npm package itself, on every runtime.
 *
 * Bun answers `import … from 'undici'` with a built-in stand-in, not the
 * package: its `Agent` is inert and its `request` is `fetch`, which drops
 * the `dispatcher` option (oven-sh/bun#21492, open as of Bun 1.4.5). The
 * federation client and the well-known transport would then send every
 * request without their connector: no address policy at connect time (the
 * discovery transport's check of the addresses it connects to, against
 * SSRF and DNS rebinding), no TLS server name or certificate authority of
 * the caller's, no connect timeout. `undici/index.js` is the package's main
 * file by its path, which Bun does not redirect (the package has no
 * `exports` map, so every runtime resolves it as `undici`). Node and Deno
 * load the same file either way.
 *
 * @module
 */

export type { Dispatcher } from 'undici/index.js';
export { Agent, buildConnector, request } from 'undici/index.js';
