/**
 * Renders a value for an error message as `` `-5` (number) `` so a reader sees both the value
 * and its type. Long values are cut.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    // Numbers as JavaScript writes them: JSON would turn NaN and Infinity into `null`.
    text =
      typeof value === "number"
        ? String(value)
        : typeof value === "string"
          ? JSON.stringify(value)
          : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  return `\`${text}\` (${type})`;
}
