/**
 * The package as a user gets it (issue 15): `npm pack`'s tarball, unpacked
 * into a fresh project whose TypeScript is as strict as it gets and has no
 * `@types/node` (the web platform's types only, as on Deno, Bun or in a
 * browser build), must type-check a program that imports every subpath
 * export, and that program must run on Node.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = join(root, 'node_modules', '.bin', 'node');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json');

/** A program that imports every subpath and uses something of each. */
const PROGRAM = `
import * as all from 'matrix-serverlib';
${subpaths
  .filter((p) => p !== '.')
  .map((p, i) => `import * as m${i} from 'matrix-serverlib/${p.slice(2)}';`)
  .join('\n')}
import { encodeCanonicalJson, parseJson } from 'matrix-serverlib/canonicaljson';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { SigningKey, signJson, verifyJson } from 'matrix-serverlib/signing';

const key = new SigningKey(new Uint8Array(32).fill(1));
const signed = signJson({ hello: 'world' }, 'example.org', 'ed25519:a', key);
const check: { valid: boolean } = verifyJson(signed, 'example.org', 'ed25519:a', key.verifyKey);
const text: string = encodeCanonicalJson(parseJson('{"b":1,"a":[true,null]}'));
const rules = getRoomVersion('12');
const loaded: number = [${subpaths
  .filter((p) => p !== '.')
  .map((_, i) => `m${i}`)
  .join(', ')}].filter((m) => Object.keys(m).length > 0).length;
console.log(JSON.stringify({ valid: check.valid, text, version: rules.id, loaded, root: Object.keys(all).length > 0 }));
`;

let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'matrix-serverlib-tarball-'));
  // The tarball as npm publishes it (built files from the last build; no scripts).
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', project], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'matrix-serverlib'), { recursive: true });
  execFileSync('tar', ['xzf', join(project, tarball), '-C', join(modules, 'matrix-serverlib'), '--strip-components=1']);
  // Its one runtime dependency, as npm would install it.
  symlinkSync(join(root, 'node_modules', 'undici'), join(modules, 'undici'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2024', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: [],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noImplicitOverride: true,
        skipLibCheck: false,
        outDir: 'out',
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(join(project, 'main.ts'), PROGRAM);
}, 120_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

describe('the packed tarball in a fresh strict TypeScript project without @types/node', () => {
  it('type-checks a program importing every subpath export, with no error in the declarations', () => {
    const tsc = spawnSync(node, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('runs it on Node', () => {
    const run = spawnSync(node, [join(project, 'out', 'main.js')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      valid: true,
      text: '{"a":[true,null],"b":1}',
      version: '12',
      loaded: subpaths.length - 1,
      root: true,
    });
  });
});
