// Zero orphans, repeated: a real Node host runs a pool of 8 workers (2 idle, 3 in a CPU-bound
// tool, 3 sleeping), is SIGKILLed, and we time until every worker process is gone. Prints the
// worst and median time and the number of survivors (must be 0) over N runs, per start mode
// (spawned workers, and workers forked from a fork server).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { echoAdapter as adapter } from "./load.mjs";

const hostScript = fileURLToPath(
  new URL("../packages/pool/test/fixtures/host.mjs", import.meta.url),
);
const busy = [
  ...Array.from({ length: 3 }, () => ["cpu_burn", { seconds: 60 }]),
  ...Array.from({ length: 3 }, () => ["sleep", { seconds: 60 }]),
];

function running(pid) {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function once8(startMode) {
  const host = spawn(
    process.execPath,
    [hostScript, JSON.stringify({ adapter, size: 8, calls: busy, registry: false, startMode })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  host.stdout.setEncoding("utf8");
  let out = "";
  for await (const chunk of host.stdout) {
    out += chunk;
    if (out.includes("\n")) break;
  }
  const { pids } = JSON.parse(out.split("\n")[0]);
  const exited = once(host, "exit");
  const t0 = performance.now();
  host.kill("SIGKILL");
  await exited;
  const deadline = t0 + 10_000;
  while (pids.some(running) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  const survivors = pids.filter(running);
  for (const pid of survivors) process.kill(-pid, "SIGKILL");
  return { ms: performance.now() - t0, survivors: survivors.length };
}

/** Runs `iterations` host SIGKILLs per start mode; one table row per mode. */
export async function benchOrphans({
  iterations = 100,
  startModes = ["spawn", "fork"],
  print = console.log,
} = {}) {
  const lines = [
    "| start mode | host SIGKILLs | workers per host | median ms to all gone | worst ms | survivors |",
    "|---|---|---|---|---|---|",
  ];
  for (const line of lines) print(line);
  let survivors = 0;
  let worstMs = 0;
  for (const startMode of startModes) {
    const times = [];
    let left = 0;
    for (let i = 0; i < iterations; i++) {
      const r = await once8(startMode);
      times.push(r.ms);
      left += r.survivors;
    }
    times.sort((a, b) => a - b);
    const row = `| ${startMode} | ${iterations} | 8 (2 idle, 3 CPU-bound, 3 sleeping) | ${times[Math.floor(times.length / 2)].toFixed(0)} | ${times.at(-1).toFixed(0)} | ${left} |`;
    print(row);
    lines.push(row);
    survivors += left;
    worstMs = Math.max(worstMs, times.at(-1));
  }
  return { table: lines.join("\n"), survivors, worstMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 100);
  const { survivors } = await benchOrphans({ iterations: n });
  process.exitCode = survivors === 0 ? 0 : 1;
}
