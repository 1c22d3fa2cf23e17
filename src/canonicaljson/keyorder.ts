/**
 * The key order of Canonical JSON: by Unicode code point (spec: Appendices,
 * "Canonical JSON"), which is neither JavaScript's default (UTF-16 code
 * unit) order nor RFC 8785's. The two differ where, at the first difference
 * between two keys, one has a surrogate (part of a character above U+FFFF)
 * and the other a unit in U+E000–U+FFFF.
 *
 * Sorting is the largest cost of encoding a big object (a power levels event
 * listing thousands of users arrives with its keys in any order), so large
 * key sets are sorted by a multikey quicksort on code units, which looks at
 * each distinguishing character once instead of comparing whole strings.
 *
 * @module
 */

/**
 * A UTF-16 code unit of `s` at `i` mapped so that numeric order is code point
 * order (for well-formed strings), or -1 past the end of `s` (a prefix sorts
 * first). Surrogates move above U+FFFF's units, U+E000–U+FFFF move down.
 */
function unitAt(s: string, i: number): number {
  if (i >= s.length) return -1;
  const c = s.charCodeAt(i);
  if (c < 0xd800) return c;
  return c <= 0xdfff ? c + 0x2000 : c - 0x800;
}

/**
 * Compares two strings by Unicode code point. UTF-16 order agrees except at
 * a first difference between a surrogate (U+D800–U+DFFF, part of a character
 * above U+FFFF) and a unit in U+E000–U+FFFF, which this corrects.
 * Never throws.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
        y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Below this many keys the native sort (with a code point fix-up) wins. */
const MULTIKEY_MIN = 48;
/** Ranges this small are finished by insertion sort. */
const INSERTION_MAX = 12;

/** Whether `keys` is already in (strictly increasing) code point order. */
function inCodePointOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if (compareCodePoints(keys[i - 1] as string, keys[i] as string) >= 0) return false;
  }
  return true;
}

/** Compares `a` and `b` by code point from index `d` (equal before it). */
function compareFrom(a: string, b: string, d: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = d; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unitAt(a, i) - unitAt(b, i);
  }
  return a.length - b.length;
}

/**
 * Sorts `keys[lo..hi)`, whose members agree on their first `d` units, by
 * code point: three-way partitioning on the unit at `d` (Bentley and
 * Sedgewick's multikey quicksort). `budget` bounds the recursion: a range
 * that exhausts it (input built to defeat the median-of-three pivot) is
 * sorted by comparison instead, so neither time nor stack depth can blow up.
 */
function multikeySort(keys: string[], lo: number, hi: number, d: number, budget: number): void {
  while (hi - lo > INSERTION_MAX) {
    if (budget-- <= 0) {
      const part = keys.slice(lo, hi).sort(compareCodePoints);
      for (let i = 0; i < part.length; i++) keys[lo + i] = part[i] as string;
      return;
    }
    const a = unitAt(keys[lo] as string, d);
    const b = unitAt(keys[(lo + hi) >>> 1] as string, d);
    const c = unitAt(keys[hi - 1] as string, d);
    // The median of the three.
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    let lt = lo;
    let gt = hi - 1;
    let i = lo;
    while (i <= gt) {
      const u = unitAt(keys[i] as string, d);
      if (u < pivot) {
        const t = keys[lt] as string;
        keys[lt++] = keys[i] as string;
        keys[i++] = t;
      } else if (u > pivot) {
        const t = keys[gt] as string;
        keys[gt--] = keys[i] as string;
        keys[i] = t;
      } else {
        i++;
      }
    }
    multikeySort(keys, lo, lt, d, budget);
    multikeySort(keys, gt + 1, hi, d, budget);
    // The middle range agrees on unit d too; keys are distinct, so if that
    // unit is the end of the string the range holds one key.
    if (pivot < 0) return;
    lo = lt;
    hi = gt + 1;
    d++;
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = keys[i] as string;
    let j = i - 1;
    while (j >= lo && compareFrom(keys[j] as string, v, d) > 0) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = v;
  }
}

/**
 * Sorts distinct strings (an object's keys) in place by code point.
 *
 * @param keys - distinct strings; reordered.
 * @returns `keys`. Never throws.
 */
export function sortByCodePoint(keys: string[]): string[] {
  const n = keys.length;
  if (n < 2) return keys;
  if (n < MULTIKEY_MIN) {
    keys.sort();
    if (!inCodePointOrder(keys)) keys.sort(compareCodePoints);
    return keys;
  }
  // Received events are usually in order already (Synapse sends Canonical
  // JSON): one linear pass then.
  if (inCodePointOrder(keys)) return keys;
  multikeySort(keys, 0, n, 0, 4 * Math.ceil(Math.log2(n)) + 16);
  return keys;
}

/**
 * Returns the keys of `obj` in Canonical JSON order. Never throws.
 *
 * @param obj - any object.
 */
export function sortedKeys(obj: object): string[] {
  return sortByCodePoint(Object.keys(obj));
}
