/**
 * The layers of the library (DESIGN.md, "Library layout"): each area of
 * src/ imports only areas below it in {@link LAYERS}, so there are no
 * cycles between areas and a lower area never depends on a higher one; and
 * the conformance runner, a user of the library, imports only its public
 * exports. Read from the import and export statements of the source,
 * type-only ones included (a type is a dependency too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const conformance = join(root, 'conformance', 'src');

/**
 * The areas, lowest first. `errors` (the error class every area throws) and
 * `util` (generic bounded structures, no protocol) are below everything;
 * `identifiers` and `canonicaljson` are the bottom of the protocol;
 * `events` builds on the hashes; `auth` on events; `stateres` runs the auth
 * rules over forks of a room's state; `keys` hands verify keys
 * to events (its lookups are the events' lookup types); `federation` is the
 * network, which serves keys a transport; `index` (the package root)
 * re-exports them all.
 */
const LAYERS = [
  'errors',
  'util',
  'identifiers',
  'canonicaljson',
  'signing',
  'roomversions',
  'hashing',
  'events',
  'auth',
  'stateres',
  'keys',
  'federation',
  'index',
] as const;

/** An import of one file by another. */
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The area of a file under src/: its folder, or its name for a file at the top. */
function areaOf(file: string): string {
  const [first = '', ...rest] = relative(src, file).split(sep);
  return rest.length === 0 ? first.replace(/\.[jt]s$/, '') : first;
}

/** Every module specifier of a file, with its line: imports, re-exports, `import()` and `import type`. */
function specifiers(text: string): { specifier: string; line: number }[] {
  const info = ts.preProcessFile(text, true, true);
  const lines = (pos: number) => text.slice(0, pos).split('\n').length;
  return info.importedFiles.map((f) => ({ specifier: f.fileName, line: lines(f.pos) }));
}

/** The imports between areas of src/, and the specifiers that leave src/ some other way. */
function readEdges(): { edges: Edge[]; escapes: string[] } {
  const edges: Edge[] = [];
  const escapes: string[] = [];
  for (const file of sourceFiles(src)) {
    const name = relative(root, file);
    for (const { specifier, line } of specifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) {
        // Node's modules and undici; the package itself (a self-reference)
        // would import an area by the back door.
        if (specifier === 'matrix-serverlib' || specifier.startsWith('matrix-serverlib/')) {
          escapes.push(`${name}:${line} imports ${specifier}`);
        }
        continue;
      }
      const target = resolve(dirname(file), specifier);
      if (relative(src, target).startsWith('..')) {
        escapes.push(`${name}:${line} imports ${specifier}, outside src/`);
        continue;
      }
      edges.push({ from: areaOf(file), to: areaOf(target), file: name, line });
    }
  }
  return { edges, escapes };
}

/** The cycles of a directed graph, each as the list of its nodes (Tarjan's strongly connected components). */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the cycle finder', () => {
  it('finds a cycle through several nodes, and none in a layered graph', () => {
    const g = (edges: [string, string][]) => {
      const m = new Map<string, Set<string>>();
      for (const [a, b] of edges) {
        m.set(a, (m.get(a) ?? new Set()).add(b));
        if (!m.has(b)) m.set(b, new Set());
      }
      return m;
    };
    expect(
      cycles(
        g([
          ['keys', 'federation'],
          ['federation', 'hashing'],
          ['hashing', 'keys'],
        ]),
      ),
    ).toEqual([['federation', 'hashing', 'keys']]);
    expect(
      cycles(
        g([
          ['federation', 'keys'],
          ['keys', 'events'],
          ['federation', 'events'],
        ]),
      ),
    ).toEqual([]);
  });

  it('reads type-only imports, re-exports and dynamic imports', () => {
    const text = "import type { A } from './a.js';\nexport { B } from '../b.js';\nawait import('../c.js');\n";
    expect(specifiers(text)).toEqual([
      { specifier: './a.js', line: 1 },
      { specifier: '../b.js', line: 2 },
      { specifier: '../c.js', line: 3 },
    ]);
  });
});

describe('the layers of src/', () => {
  const { edges, escapes } = readEdges();
  const rank = (area: string) => (LAYERS as readonly string[]).indexOf(area);

  it('has every area in the declared order', () => {
    const unknown = [...new Set(edges.flatMap((e) => [e.from, e.to]))].filter((a) => rank(a) < 0);
    expect(unknown).toEqual([]);
  });

  it('imports no area above the importing one', () => {
    const upward = edges
      .filter((e) => rank(e.from) >= 0 && rank(e.to) > rank(e.from))
      .map((e) => `${e.file}:${e.line}: ${e.from} imports ${e.to}, which is above it`);
    expect(upward).toEqual([]);
  });

  it('has no cycle between areas', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      if (e.from === e.to) continue;
      graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
    }
    expect(cycles(graph)).toEqual([]);
  });

  it('reaches other areas only by relative imports inside src/', () => {
    expect(escapes).toEqual([]);
  });
});

describe('the conformance runner', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const publicSpecifiers = new Set(
    Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'matrix-serverlib' : `matrix-serverlib/${key.slice(2)}`)),
  );

  it('imports only public exports of the library, Node modules and its own files', () => {
    const files = sourceFiles(conformance);
    expect(files.length).toBeGreaterThan(0);
    const wrong: string[] = [];
    for (const file of files) {
      for (const { specifier, line } of specifiers(readFileSync(file, 'utf8'))) {
        const where = `${relative(root, file)}:${line} imports ${specifier}`;
        if (specifier.startsWith('.')) {
          if (relative(conformance, resolve(dirname(file), specifier)).startsWith('..')) wrong.push(where);
        } else if (!specifier.startsWith('node:') && !publicSpecifiers.has(specifier)) {
          wrong.push(where);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
