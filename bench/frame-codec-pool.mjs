// Node CPU per call of the frames pool (one worker, process profile) on a 100-byte echo at
// concurrency 64: the host-side cost the hand-written frame codec is meant to cut. Rounds
// alternate nothing (one path); run it before and after a change and compare the medians.
// Not part of `pnpm bench`: a tool for codec work. `node bench/frame-codec-pool.mjs [rounds]`.
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { echoAdapter as adapter, closedLoop, median } from "./load.mjs";

const rounds = Number(process.argv[2] ?? 5);
const python = (await resolvePythonEnvironment()).executable;
const pool = createPool({
  adapter,
  pythonExecutable: python,
  startMode: "spawn",
  registry: false,
  size: 1,
  transport: "frames",
});
const value = "x".repeat(100);
const call = () => pool.execute("echo", { value });
try {
  await closedLoop(call, { concurrency: 64, maxCalls: 5000, maxMs: 2000 });
  const cpu = [];
  const rate = [];
  for (let i = 0; i < rounds; i++) {
    const r = await closedLoop(call, { concurrency: 64, maxCalls: 30_000, maxMs: 3000 });
    cpu.push(r.cpuUsPerCall);
    rate.push(r.perSecond);
    console.log(
      `round ${i + 1}: ${r.cpuUsPerCall.toFixed(1)} µs CPU/call, ${Math.round(r.perSecond)} calls/s`,
    );
  }
  console.log(`median: ${median(cpu).toFixed(1)} µs CPU/call, ${Math.round(median(rate))} calls/s`);
} finally {
  await pool.close();
}
