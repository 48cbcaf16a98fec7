// The quickstart: a pool of 4 real Python workers, tools called concurrently, a streamed
// result, a structured Python error, and a clean shutdown. Run it with `pnpm quickstart`.
import { fileURLToPath } from "node:url";
import { createPool, isSnakepitError } from "@snakepit/pool";

const adapter = fileURLToPath(
  new URL("../adapters/quickstart_adapter.py:QuickstartAdapter", import.meta.url),
);

/** Runs the quickstart and returns what it printed, so a test can check it. */
export async function quickstart(print: (line: string) => void = console.log): Promise<void> {
  const pool = createPool({ adapter, size: 4 });
  try {
    const started = performance.now();
    await pool.ready();
    print(`4 Python workers ready in ${Math.round(performance.now() - started)} ms`);

    const texts = [
      "the quick brown fox",
      "jumps over the lazy dog",
      "snakes in a pit",
      "node calls python",
    ];
    const counts = await Promise.all(
      texts.map((text) =>
        pool.execute<{ words: number; unique: number; pid: number }>("word_count", { text }),
      ),
    );
    for (const [i, c] of counts.entries())
      print(`word_count(${JSON.stringify(texts[i])}) = ${c.words} words (worker pid ${c.pid})`);
    print(`served by ${new Set(counts.map((c) => c.pid)).size} different Python processes`);

    const fib = await Promise.all(
      [20, 25, 30].map((n) => pool.execute<number>("fibonacci", { n })),
    );
    print(`fibonacci(20, 25, 30) = ${fib.join(", ")}`);

    const streamed: string[] = [];
    for await (const token of pool.executeStream<string>("tokens", {
      text: "streamed one word at a time",
      delay: 0.02,
    }))
      streamed.push(token);
    print(`tokens streamed: ${streamed.join(" | ")}`);

    try {
      await pool.execute("divide", { a: 1, b: 0 });
    } catch (err) {
      if (!isSnakepitError(err, "TOOL_ERROR")) throw err;
      print(`divide(1, 0) failed with ${err.code}: ${err.details.type}: ${err.details.message}`);
      const frames = String(err.details.traceback)
        .split("\n")
        .filter((l) => l.trim().startsWith("File "));
      print(`  raised at ${frames.at(-1)?.trim()}`);
    }
    print(`stats: ${JSON.stringify(pool.stats())}`);
  } finally {
    await pool.close();
    print("pool closed: every worker stopped");
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  quickstart().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
