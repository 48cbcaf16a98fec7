// Helpers of the payload codec: what makes a value lossy in JSON, and where it is (error path only).

/** Built-ins that JSON writes as `{}` (their contents are not own enumerable properties). */
const writtenAsEmptyObject: ReadonlyArray<readonly [string, new (...args: never[]) => object]> = [
  ["Map", Map],
  ["Set", Set],
  ["WeakMap", WeakMap],
  ["WeakSet", WeakSet],
  ["WeakRef", WeakRef],
  ["RegExp", RegExp],
  ["Error", Error],
  ["Promise", Promise],
];

const hints: Readonly<Record<string, string>> = {
  Map: " (convert it first, e.g. `Object.fromEntries(map)`)",
  Set: " (convert it first, e.g. `[...set]`)",
};

/**
 * Why `value` (what JSON is about to write, after `toJSON()`) would not arrive as sent, given
 * `raw` (the value before `toJSON()`); `undefined` when it is fine. Plain objects take the first,
 * cheap branch: this runs once per object in the payload.
 */
export function describeLossyValue(raw: unknown, value: object | null): string | undefined {
  if (value === null) {
    return raw instanceof Date ? "is an invalid Date, which JSON would turn into null" : undefined;
  }
  if (raw === value) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return undefined;
  }
  if (
    typeof raw === "object" &&
    raw !== null &&
    (ArrayBuffer.isView(raw) || raw instanceof ArrayBuffer || raw instanceof SharedArrayBuffer)
  ) {
    return raw instanceof Uint8Array
      ? "is binary data below the top level, which JSON would turn into an object of numbers: " +
          "only top-level arguments travel as bytes, so pass it as an argument of its own"
      : `is a ${raw.constructor.name}, which JSON would turn into an object of numbers: only a ` +
          "Uint8Array (or Buffer) travels as bytes, and only as a top-level argument " +
          "(e.g. `new Uint8Array(x.buffer, x.byteOffset, x.byteLength)`)";
  }
  for (const [name, type] of writtenAsEmptyObject) {
    if (value instanceof type)
      return `is a ${name}, which JSON would turn into {}${hints[name] ?? ""}`;
  }
  return undefined;
}

/** One step of a path: `[2]` in an array, `.name` or `["odd key"]` in an object. */
export function pathSegment(holder: object, key: string): string {
  if (Array.isArray(holder)) return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * The path segments from `root` to the object `holder`, walking as `JSON.stringify` did: through
 * what `toJSON()` returned (`produced`, noted during that walk), over own enumerable string keys;
 * `undefined` if `holder` is not inside `root` (it is then JSON's wrapper of the root value). Runs
 * only when a value was rejected.
 */
export function pathToHolder(
  root: unknown,
  holder: object,
  produced: ReadonlyMap<object, unknown>,
): string[] | undefined {
  const seen = new Set<object>();
  const search = (node: unknown, path: string[]): string[] | undefined => {
    const value =
      typeof node === "object" && node !== null && produced.has(node) ? produced.get(node) : node;
    if (typeof value !== "object" || value === null || seen.has(value)) return undefined;
    if (value === holder) return path;
    seen.add(value);
    for (const k of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[k];
      const found = search(child, [...path, pathSegment(value, k)]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return search(root, []);
}
