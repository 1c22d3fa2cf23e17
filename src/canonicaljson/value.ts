/**
 * The value tree that parsed JSON becomes, and that Canonical JSON encodes.
 *
 * Room versions 1–5 accept any JSON number and Synapse re-encodes it exactly
 * as Python does: integers of any size stay integers, anything written with
 * a fraction or exponent is a float (`1.0` stays distinct from `1`). A plain
 * `number` cannot carry that, so the legacy parser produces `bigint` for
 * integers outside the safe range and {@link JsonFloat} for floats.
 *
 * @module
 */

/**
 * A JSON number written with a fraction or exponent, kept as a float.
 *
 * Only produced when parsing with legacy number rules (room versions 1–5),
 * where Synapse keeps such numbers as Python floats and encodes them with
 * Python's `repr` (`1.0`, `1e+16`, `-0.0`).
 */
export class JsonFloat {
  /** The IEEE 754 double the text rounds to. Always finite. */
  readonly value: number;

  /**
   * @param value - a finite double (not checked: never throws). The
   *   instance is frozen: a value of a tree, like the tree's strings and
   *   numbers, never changes.
   */
  constructor(value: number) {
    this.value = value;
    Object.freeze(this);
  }
}

/** A JSON object as a plain JavaScript object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Any value of the tree: what the parser returns and the encoder accepts. */
export type JsonValue = null | boolean | number | bigint | JsonFloat | string | JsonValue[] | JsonObject;

/**
 * Whether `value` is a JSON object (a plain object, not an array, class
 * instance or null). Never throws.
 */
export function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Sets `key` on `target` as an own data property, even when `key` is
 * `__proto__` (a plain assignment would replace the prototype instead, and the
 * key would vanish from the object: a parsing difference an attacker can use).
 * Never throws on a plain object.
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/**
 * Freezes every object and array of `tree`, but for the values it shares
 * with `frozen`, a tree frozen whole (a received value), at the same place:
 * for a tree made from a frozen one (the redacted form of a received
 * event), only what was made anew is left to freeze. Asking the engine
 * whether an object is frozen instead costs as much as freezing it again
 * for a large one (a map of thousands of users). Iterative. Returns `tree`.
 */
export function freezeTree<T extends JsonValue>(tree: T, frozen: JsonValue | undefined): T {
  const open: JsonValue[] = [tree];
  const shared: (JsonValue | undefined)[] = [frozen];
  for (let v = open.pop(); v !== undefined; v = open.pop()) {
    const was = shared.pop();
    if (typeof v !== 'object' || v === null || v === was) continue;
    Object.freeze(v);
    if (Array.isArray(v)) {
      for (const item of v) {
        open.push(item);
        shared.push(undefined);
      }
    } else {
      const before = typeof was === 'object' && was !== null && !Array.isArray(was) ? (was as JsonObject) : undefined;
      for (const key of Object.keys(v)) {
        open.push((v as JsonObject)[key] as JsonValue);
        shared.push(before !== undefined && Object.hasOwn(before, key) ? before[key] : undefined);
      }
    }
  }
  return tree;
}

/**
 * Whether every object and array of `tree` is frozen, so that it cannot
 * change (the event of a received PDU is such a tree): what is worked out
 * from it may be kept. Iterative; stops at the first that is not.
 */
export function isFrozenTree(tree: JsonValue): boolean {
  const open: JsonValue[] = [tree];
  for (let v = open.pop(); v !== undefined; v = open.pop()) {
    if (typeof v !== 'object' || v === null) continue;
    if (!Object.isFrozen(v)) return false;
    if (Array.isArray(v)) for (const item of v) open.push(item);
    else for (const key of Object.keys(v)) open.push((v as JsonObject)[key] as JsonValue);
  }
  return true;
}
