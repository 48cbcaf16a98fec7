// Shared helpers of the benchmarks: a closed-loop load bounded by call count and by time, and
// the median. `SNAKEPIT_BENCH_QUICK=1` shrinks every benchmark to a smoke run.
import { fileURLToPath } from "node:url";

/** The echo fixture adapter most benchmarks run (the test suites' own). */
export const echoAdapter = fileURLToPath(
  new URL("../packages/python-bridge/test/fixtures/echo_adapter.py:EchoAdapter", import.meta.url),
);

/** True when `SNAKEPIT_BENCH_QUICK=1`: every benchmark runs a token amount of work. */
export const quick = process.env.SNAKEPIT_BENCH_QUICK === "1";

/**
 * Runs `call(i)` from `concurrency` lanes until `maxCalls` have completed or `maxMs` passed
 * (whichever first; lanes finish their current call). Returns completed calls per second and
 * this Node process's CPU time per call in µs (user + system: the host-side cost of a call, which
 * other load on the machine disturbs far less than throughput).
 */
export async function closedLoop(call, { concurrency, maxCalls, maxMs }) {
  let started = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < maxCalls && performance.now() < deadline) {
        await call(started++);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: done / seconds, cpuUsPerCall: (cpu.user + cpu.system) / done, done };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `1234.5` → `"1,235"`. */
export const rate = (x) => Math.round(x).toLocaleString("en-US");
