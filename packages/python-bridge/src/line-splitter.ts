import type { Readable } from "node:stream";

/**
 * Calls `onLine` for every line of a byte stream (without the newline), and once for a last
 * line without a newline when the stream ends. Works on raw chunks: no readline interface.
 */
export function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    rest += chunk;
    let nl = rest.indexOf("\n");
    while (nl !== -1) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      nl = rest.indexOf("\n");
    }
  });
  stream.on("end", () => {
    if (rest !== "") onLine(rest);
    rest = "";
  });
}
