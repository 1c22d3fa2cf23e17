/**
 * The sizes and seeds of the generated differential runs. Each has a fixed
 * default, so that every CI run checks the same corpus; an environment
 * variable of the same name widens or re-seeds a run without editing the
 * tests, for example `AUTH_ROOMS=200 AUTH_SEED=1 npx vitest run
 * test/interop/auth-rules.test.ts`.
 */

/**
 * The value of the environment variable `name` as a non-negative integer,
 * or `fallback` when it is unset or empty.
 *
 * @throws Error if it is set to anything else, so that a typo does not
 *   quietly run the default corpus.
 */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  return n;
}
