import { describe, expect, it } from "vitest";
import { quickstart } from "./quickstart.js";

describe("quickstart", () => {
  it("runs against real Python workers and prints each step", async () => {
    const lines: string[] = [];
    await quickstart((line) => lines.push(line));
    const text = lines.join("\n");
    expect(text).toContain("4 Python workers ready");
    expect(text).toContain('word_count("jumps over the lazy dog") = 5 words');
    expect(text).toContain("fibonacci(20, 25, 30) = 6765, 75025, 832040");
    expect(text).toContain("tokens streamed: streamed | one | word | at | a | time");
    expect(text).toContain(
      "divide(1, 0) failed with TOOL_ERROR: ZeroDivisionError: division by zero",
    );
    expect(text).toMatch(/raised at File ".*quickstart_adapter.py", line \d+, in divide/);
    expect(text).toContain("pool closed");
  });
});
