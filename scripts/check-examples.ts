/**
 * Type-checks every TypeScript example a user reads: the `@example` blocks
 * of the TSDoc in `src/`, and the ```ts blocks of the README and the
 * guides in `docs/` (issue 15: an example that does not compile teaches
 * the wrong API).
 *
 * Each example becomes a module under `.examples/`, checked with the
 * strictest options against the package as users get it (its `exports`
 * and built types, through the package's own name). Examples are
 * fragments: the names of the package they use without importing them are
 * imported from its root, and the values they take as given (an event
 * received, a keyring) from `scripts/examples.given.d.ts`, which declares
 * each with the one type every example expects of it. Nothing else is
 * added and no line is hidden: what a reader sees is what is checked.
 *
 * All examples are checked in one run of tsc, with a planted error that
 * it must report (else the check itself is broken and proves nothing).
 *
 * `node scripts/check-examples.ts` (after `npm run build`; `npm run
 * check` runs it): prints each error at the example's place in its source,
 * and exits 1 if there is any.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');
const out = join(root, '.examples');
const given = join(root, 'scripts', 'examples.given.d.ts');

interface Example {
  /** Where it is: a file relative to the root, and the line of its first code line. */
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

function filesUnder(dir: string, test: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The ```ts blocks of a text, each line passed through `strip` first (TSDoc's ` * `). */
function blocks(file: string, text: string, strip: (line: string) => string | undefined): Example[] {
  const found: Example[] = [];
  let open: { line: number; lines: string[] } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = strip(raw);
    if (line === undefined) {
      open = undefined;
      return;
    }
    if (open === undefined) {
      if (/^```(ts|typescript)\s*$/.test(line.trim())) open = { line: i + 2, lines: [] };
    } else if (line.trim() === '```') {
      found.push({ file: relative(root, file), line: open.line, code: open.lines.join('\n') });
      open = undefined;
    } else {
      open.lines.push(line);
    }
  });
  return found;
}

/** TSDoc lines: the text after ` * `; anything else ends a block. */
const tsdoc = (line: string): string | undefined => {
  const m = /^\s*\* ?(.*)$/.exec(line);
  return m === null ? undefined : (m[1] as string);
};

function examples(): Example[] {
  const found: Example[] = [];
  for (const file of filesUnder(join(root, 'src'), (n) => n.endsWith('.ts'))) {
    found.push(...blocks(file, readFileSync(file, 'utf8'), tsdoc));
  }
  const markdown = [join(root, 'README.md'), ...filesUnder(join(root, 'docs'), (n) => n.endsWith('.md'))];
  for (const file of markdown) {
    if (file.includes(join('docs', 'api'))) continue;
    found.push(...blocks(file, readFileSync(file, 'utf8'), (l) => l));
  }
  return found;
}

/** The names the package root exports, from its built declarations. */
function rootExports(): Set<string> {
  const program = ts.createProgram([join(root, 'dist', 'index.d.ts')], { module: ts.ModuleKind.NodeNext });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(root, 'dist', 'index.d.ts'));
  const symbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (symbol === undefined) throw new Error('dist/index.d.ts not found: run npm run build first');
  return new Set(checker.getExportsOfModule(symbol).map((s) => s.name));
}

/** Whether `id` is the name a declaration gives: a variable (destructured too), a parameter, a function, an import… */
function declares(id: ts.Identifier): boolean {
  const p = id.parent;
  return (
    (ts.isVariableDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isBindingElement(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) ||
      ts.isClassExpression(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isEnumDeclaration(p) ||
      ts.isTypeParameterDeclaration(p) ||
      ts.isImportClause(p) ||
      ts.isNamespaceImport(p) ||
      ts.isImportSpecifier(p) ||
      ts.isImportEqualsDeclaration(p)) &&
    p.name === id
  );
}

/**
 * Whether `id` names no variable but a member or a label: after a `.`,
 * before the `:` of an object literal or a destructuring, the name of a
 * property, method or enum member, the imported name of `a as b`.
 */
function namesMember(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p)) return p.name === id;
  if (ts.isQualifiedName(p)) return p.right === id;
  if (ts.isBindingElement(p) || ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return p.propertyName === id;
  if (
    ts.isPropertyAssignment(p) ||
    ts.isPropertySignature(p) ||
    ts.isPropertyDeclaration(p) ||
    ts.isMethodDeclaration(p) ||
    ts.isMethodSignature(p) ||
    ts.isGetAccessorDeclaration(p) ||
    ts.isSetAccessorDeclaration(p) ||
    ts.isEnumMember(p) ||
    ts.isMetaProperty(p)
  ) {
    return p.name === id;
  }
  return (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) && p.label === id;
}

/**
 * The names an example declares anywhere (imports, variables, parameters,
 * destructured names…), the names it uses without declaring (what it
 * takes from the package or as given), and those it imports from the
 * package. Scopes are not told apart: a name declared anywhere in a
 * fragment this short is the one it means.
 */
function namesOf(code: string): { bound: Set<string>; free: Set<string>; imported: Set<string> } {
  const source = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest, true);
  const bound = new Set<string>();
  const used = new Set<string>();
  const imported = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      if (declares(node)) bound.add(node.text);
      else if (!namesMember(node)) used.add(node.text);
    } else if (
      ts.isImportDeclaration(node) &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      /^matrix-serverlib(\/|$)/.test(node.moduleSpecifier.text)
    ) {
      const names = node.importClause?.namedBindings;
      if (names !== undefined && ts.isNamedImports(names)) {
        for (const e of names.elements) imported.add((e.propertyName ?? e.name).text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { bound, free: new Set([...used].filter((n) => !bound.has(n))), imported };
}

/**
 * Whether a guide links `name` in the API reference: a Markdown link
 * ``[`name`](../src/<area>/index.ts#name)``, which typedoc resolves to the
 * entry in the area's page (and checks the anchor), and GitHub to the file
 * that exports it.
 */
function linksEntry(guide: string, name: string): boolean {
  const escaped = (text: string) => text.replace(/[$]/g, '\\$');
  const link = `\\[\`${escaped(name)}\`\\]\\(\\.\\./src/[^)#]*#${escaped(name.toLowerCase())}\\)`;
  return new RegExp(link).test(guide);
}

/** The names `scripts/examples.given.d.ts` declares: what examples take as given. */
function givenNames(): Set<string> {
  const text = readFileSync(given, 'utf8');
  const source = ts.createSourceFile(given, text, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    } else if (ts.isFunctionDeclaration(statement) && statement.name !== undefined) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/**
 * An example that must fail, checked with the others: if its error is not
 * reported, the check itself is broken (it found no files, or checks
 * nothing), and passing would mean nothing.
 */
const CANARY = {
  file: 'canary.ts',
  code: 'const canary: string = 1;\nexport {};\n',
  error: /^canary\.ts\(1,7\): error TS2322:/m,
};

function main(): number {
  const all = examples();
  const exported = rootExports();
  const givens = givenNames();
  const problems: string[] = [];
  for (const name of givens) {
    if (exported.has(name)) {
      problems.push(`${relative(root, given)}: ${name} is exported by the package: give it another name`);
    }
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const places = new Map<string, Example>();
  const unused = new Set(givens);
  /** The package's names each guide's examples use: each guide must link them. */
  const guideUses = new Map<string, Set<string>>();
  all.forEach((example, i) => {
    const { free, imported } = namesOf(example.code);
    const fromRoot = [...free].filter((n) => exported.has(n)).sort();
    if (example.file.startsWith(`docs${sep}`)) {
      const uses = guideUses.get(example.file) ?? new Set<string>();
      for (const n of [...imported, ...fromRoot]) uses.add(n);
      guideUses.set(example.file, uses);
    }
    const fromGiven = [...free].filter((n) => givens.has(n)).sort();
    for (const n of fromGiven) unused.delete(n);
    const imports: string[] = [];
    if (fromRoot.length > 0) imports.push(`import { ${fromRoot.join(', ')} } from 'matrix-serverlib';`);
    if (fromGiven.length > 0) imports.push(`import { ${fromGiven.join(', ')} } from '../scripts/examples.given.js';`);
    const name = `example${i}.ts`;
    // One header line, so an error's line is the example's line + 1.
    writeFileSync(join(out, name), `${imports.join(' ')}\n${example.code}\nexport {};\n`);
    places.set(name, example);
  });
  for (const name of unused) problems.push(`${relative(root, given)}: ${name} is taken as given by no example`);
  for (const [file, uses] of guideUses) {
    const guide = readFileSync(join(root, file), 'utf8');
    const unlinked = [...uses].filter((n) => !linksEntry(guide, n)).sort();
    if (unlinked.length > 0) problems.push(`${file}: uses but does not link (see linksEntry): ${unlinked.join(', ')}`);
  }
  if (all.length === 0) problems.push('no examples found');
  writeFileSync(join(out, CANARY.file), CANARY.code);
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2024'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: true,
        noEmit: true,
      },
      include: ['*.ts'],
    }),
  );
  // Run in the examples' folder, so that tsc names their files as written here.
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
    cwd: out,
    encoding: 'utf8',
  });
  if (tsc.error !== undefined) throw tsc.error;
  if (!CANARY.error.test(tsc.stdout)) {
    problems.push(`the check missed the error planted in ${CANARY.file}:\n${tsc.stdout}${tsc.stderr}`);
  }
  // Every error counts, the given declarations' too; the canary's is expected.
  let errors = 0;
  for (const line of tsc.stdout.split('\n')) {
    if (line.trim() === '' || line.startsWith(CANARY.file)) continue;
    const m = /^(example\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
    const example = m === null ? undefined : places.get(m[1] as string);
    if (/: error TS\d+:/.test(line)) errors++;
    if (m === null || example === undefined) console.log(line);
    else console.log(`${example.file}:${example.line + Number(m[2]) - 2}:${m[3]}: ${m[4]}`);
  }
  for (const p of problems) console.log(p);
  console.log(`${all.length} examples checked, ${errors === 0 ? 'no errors' : `${errors} errors`}`);
  return errors === 0 && problems.length === 0 ? 0 : 1;
}

process.exit(main());
