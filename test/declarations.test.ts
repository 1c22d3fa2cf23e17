/**
 * The package's declarations type-check in a strict project without
 * `@types/node` (issue 15): public signatures say `Uint8Array`, not
 * `Buffer`, and no declaration imports a `node:` module. Checks the build
 * (`dist/`, as `npm run build` leaves it) through the package's exports.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, unknown> };

describe('the declarations', () => {
  it('type-check without @types/node, every export of the package', () => {
    const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json');
    const source = subpaths
      .map((p, i) => `import * as m${i} from 'matrix-serverlib${p.slice(1)}';\nexport const x${i} = m${i};`)
      .join('\n');
    const file = `${root}test/__declarations__.ts`;
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2024.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      exactOptionalPropertyTypes: true,
      types: [],
      skipLibCheck: false,
      noEmit: true,
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (name) => (name === file ? source : read(name));
    const exists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || exists(name);
    const getSource = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language) =>
      name === file ? ts.createSourceFile(name, source, language) : getSource(name, language);
    const program = ts.createProgram([file], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    // Every subpath resolved to the build's declarations.
    for (const p of subpaths) {
      const dir = p === '.' ? '' : `${p.slice(2)}/`;
      expect(program.getSourceFile(`${root}dist/${dir}index.d.ts`), p).toBeDefined();
    }
    expect(problems).toEqual([]);
  });
});
