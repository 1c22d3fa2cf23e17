/**
 * gomatrixserverlib as a peer of the incoming-PDU benchmark: the Go harness
 * in `peers/gomatrixserverlib/` (ours, around its public API) built with
 * the machine's Go and driven over its standard input, so that its rounds
 * run in this run, interleaved with ours's baseline.
 */

import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./gomatrixserverlib/', import.meta.url));
const OUT = fileURLToPath(new URL('../results/peers/', import.meta.url));

/** What the harness checks: an event as received and the key that signed it. */
export interface GoPeerConfig {
  readonly room_version: string;
  readonly server_name: string;
  readonly key_id: string;
  /** Unpadded Base64. */
  readonly public_key: string;
  /** The event's bytes as received, as text. */
  readonly event: string;
}

let built: string | { readonly why: string } | undefined;

/** Builds the harness once per process: its path, or why it could not be built. */
function build(): string | { readonly why: string } {
  if (built !== undefined) return built;
  mkdirSync(OUT, { recursive: true });
  const binary = `${OUT}gomatrixserverlib-bench`;
  const go = spawnSync('go', ['build', '-o', binary, '.'], { cwd: SOURCE, encoding: 'utf8', timeout: 600_000 });
  if (go.error !== undefined) built = { why: `go is not available (${go.error.message})` };
  else if (go.status !== 0) built = { why: `go build failed: ${go.stderr.trim().split('\n').slice(-3).join(' / ')}` };
  else built = binary;
  return built;
}

/** A running harness over one event. */
export class GoPeer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  /**
   * Builds (once) and starts the harness on `config`.
   *
   * @returns the peer, or why it cannot be measured here (no Go, a failed build).
   */
  static start(config: GoPeerConfig): GoPeer | { readonly why: string } {
    const binary = build();
    if (typeof binary !== 'string') return binary;
    const file = `${OUT}gomatrixserverlib-${process.pid}.json`;
    writeFileSync(file, JSON.stringify(config));
    return new GoPeer(spawn(binary, [file], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  #ask(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const stderr: Buffer[] = [];
      const onData = (d: Buffer) => stderr.push(d);
      const onExit = (code: number | null) =>
        reject(new Error(`gomatrixserverlib harness exited (${code}): ${Buffer.concat(stderr).toString().trim()}`));
      this.#child.stderr.on('data', onData);
      this.#child.once('exit', onExit);
      this.#waiting.push((line) => {
        this.#child.stderr.off('data', onData);
        this.#child.off('exit', onExit);
        resolve(line);
      });
      this.#child.stdin.write(`${command}\n`);
    });
  }

  /** The event ID gomatrixserverlib gives the event, after its full check. */
  check(): Promise<string> {
    return this.#ask('check');
  }

  /** Full checks per second over a round of about `ms`. */
  async round(ms: number): Promise<number> {
    const [ops, seconds] = (await this.#ask(`round ${Math.max(1, Math.round(ms))}`)).split(' ').map(Number);
    return (ops as number) / (seconds as number);
  }

  /** Stops the harness. */
  close(): void {
    this.#lines.close();
    this.#child.stdin.end();
  }
}
