/**
 * `npm run example -- <name>`: runs one of the examples in `examples/`,
 * which print what they show (the guides in `docs/` explain them). Without
 * a name, lists them. The examples import the package by name, so they run
 * against the build (`npm run build`, which `npm ci` does).
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'examples');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((n) => !n.startsWith('_'))
  .sort();

const [name] = process.argv.slice(2);
if (name === undefined || !names.includes(name)) {
  if (name !== undefined) console.error(`No example named ${JSON.stringify(name)}.`);
  console.error(`Examples: ${names.join(', ')}\nRun one with: npm run example -- <name>`);
  process.exit(name === undefined ? 0 : 2);
}
const example = (await import(join(dir, `${name}.ts`))) as { main?: () => Promise<void> | void };
if (example.main === undefined) throw new Error(`examples/${name}.ts has no main()`);
await example.main();
