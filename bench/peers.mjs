// The same echo through the pool on both transports and through the simplest peers, so the gap
// is visible: python-shell (json mode: one JSON line each way, via its own parser) and a raw
// length-prefixed stdio pipe (bench/fixtures/pipe_echo.py; Node frames, Python json.loads/dumps,
// Node JSON.parse). Both peers run one Python process; "concurrency 8" means 8 requests pipelined
// on its stdin, answered in order. Pools, on both transports: the process profile (the default;
// pipelineDepth 32 by default) and the thread profile (64 slots), 1 and 2 workers each, all
// plain-spawned. The row the targets of issue 13 are about is the newcomer's pool:
// `createPool({ adapter, size: 1 })` (frames, process profile, pipelineDepth 32: nothing passed but
// the interpreter, a name and `registry: false`, neither on the call path). 100-byte and 1 MiB
// string values, JSON on every path (the pool JSON-encodes its arguments too: the same work). Rounds
// alternate the paths; cells are medians, each ratio is the median of per-round ratios of two paths
// measured in the same run, and the targets are printed with ✓/✗ under the table. Node CPU is this
// process's user + system time per completed call.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { PythonShell } from "python-shell";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

const script = fileURLToPath(new URL("./fixtures/pipe_echo.py", import.meta.url));

/** Answers arrive in request order on both peers: a FIFO of resolvers matches them. */
function fifo() {
  const waiting = [];
  return {
    push: () => new Promise((resolve) => waiting.push(resolve)),
    settle: (value) => waiting.shift()?.(value),
  };
}

function startShell(pythonPath) {
  const shell = new PythonShell(script, { mode: "json", pythonPath, args: ["--lines"] });
  const answers = fifo();
  shell.on("message", (m) => answers.settle(m.value));
  return {
    execute(a) {
      const answer = answers.push();
      shell.send(a);
      return answer;
    },
    async close() {
      await new Promise((resolve) => shell.end(() => resolve()));
    },
  };
}

function startPipe(python) {
  const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const answers = fifo();
  // Chunks are kept until a whole message is there, then joined once: a 1 MiB message arrives in
  // 64 KiB chunks, and concatenating on every chunk would copy it ~8 times (quadratic).
  let chunks = [];
  let length = 0;
  let need = 4;
  child.stdout.on("data", (chunk) => {
    chunks.push(chunk);
    length += chunk.length;
    if (length < need) return;
    let buffered = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
    while (buffered.length >= 4) {
      const n = buffered.readUInt32BE(0);
      if (buffered.length < 4 + n) break;
      answers.settle(JSON.parse(buffered.subarray(4, 4 + n).toString("utf8")).value);
      buffered = buffered.subarray(4 + n);
    }
    chunks = buffered.length === 0 ? [] : [buffered];
    length = buffered.length;
    need = length < 4 ? 4 : 4 + buffered.readUInt32BE(0);
  });
  return {
    execute(a) {
      const answer = answers.push();
      const body = Buffer.from(JSON.stringify(a));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length);
      child.stdin.write(Buffer.concat([header, body]));
      return answer;
    },
    async close() {
      const exited = once(child, "exit");
      child.stdin.end();
      await exited;
    },
  };
}

/** The pool the targets are about: what `createPool({ adapter, size: 1 })` gives a newcomer. */
export const DEFAULT_POOL = "pool, frames, defaults, 1 worker";
const SHELL = "python-shell 5.0.0";
const PIPE = "raw length-prefixed pipe";

/** Issue 13's targets, each checked on ratios measured in the same run. */
export const TARGETS = { shell: 0.5, pipe: 0.8, grpc: 10, nodeUs: 15 };

/** The pools: [name, options over the base, gRPC twin of a frames pool]. */
function poolSpecs() {
  const thread = { profile: "thread", threadsPerWorker: 64 };
  return [
    // Default options: no transport, no profile, no pipelineDepth (frames, process, 4).
    [DEFAULT_POOL, { size: 1 }, "pool, gRPC, 1 worker"],
    ["pool, frames, 2 workers", { size: 2, transport: "frames" }, "pool, gRPC, 2 workers"],
    [
      "pool, frames, thread ×64, 1 worker",
      { size: 1, transport: "frames", ...thread },
      "pool, gRPC, thread ×64, 1 worker",
    ],
    [
      "pool, frames, thread ×64, 2 workers",
      { size: 2, transport: "frames", ...thread },
      "pool, gRPC, thread ×64, 2 workers",
    ],
    ["pool, gRPC, 1 worker", { size: 1, transport: "grpc" }],
    ["pool, gRPC, 2 workers", { size: 2, transport: "grpc" }],
    ["pool, gRPC, thread ×64, 1 worker", { size: 1, transport: "grpc", ...thread }],
    ["pool, gRPC, thread ×64, 2 workers", { size: 2, transport: "grpc", ...thread }],
  ];
}

const check = (ok) => (ok ? "✓" : "✗");

export async function benchPeers({
  concurrencies = [1, 8, 64],
  print = console.log,
  sizes = {
    "100 B": {
      bytes: 100,
      maxCalls: quick ? 300 : 5000,
      maxMs: quick ? 150 : 500,
      rounds: quick ? 1 : 5,
    },
    "1 MiB": {
      bytes: 1024 * 1024,
      maxCalls: quick ? 30 : 300,
      maxMs: quick ? 300 : 1000,
      rounds: quick ? 1 : 3,
    },
  },
} = {}) {
  // The default row must get the library's defaults, not the environment's overrides of them.
  for (const name of ["SNAKEPIT_TRANSPORT", "SNAKEPIT_START_MODE"])
    if (process.env[name] !== undefined)
      throw new Error(`unset ${name} for the peers benchmark: its default-options row reads it`);
  const python = (await resolvePythonEnvironment()).executable;
  const specs = poolSpecs();
  const twin = Object.fromEntries(specs.filter((s) => s[2] !== undefined).map((s) => [s[0], s[2]]));
  const pools = Object.fromEntries(
    specs.map(([key, options], i) => [
      key,
      createPool({
        adapter,
        pythonExecutable: python,
        registry: false,
        name: `peers${i}`,
        ...options,
      }),
    ]),
  );
  const shell = startShell(python);
  const pipe = startPipe(python);
  const sides = {
    ...Object.fromEntries(Object.entries(pools).map(([k, p]) => [k, (a) => p.execute("echo", a)])),
    [SHELL]: (a) => shell.execute(a),
    [PIPE]: (a) => pipe.execute(a),
  };
  const rows = [];
  let backgroundMsPerS = 0;
  try {
    await Promise.all(Object.values(pools).map((p) => p.ready()));
    const address = pools[DEFAULT_POOL].stats().workerDetails[0]?.address ?? "";
    if (!address.startsWith("frames:"))
      throw new Error(`the default pool is not on frames (worker address ${address})`);
    // Every round is charged the background of all the idle pools (heartbeats both ways): measured
    // here with no call running, and printed, so a reader can tell it from the per-call cost.
    const idleMs = quick ? 300 : 2000;
    const idle0 = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const idle = process.cpuUsage(idle0);
    backgroundMsPerS = (idle.user + idle.system) / idleMs;
    for (const [size, { bytes, rounds, ...bounds }] of Object.entries(sizes)) {
      const args = { value: "x".repeat(bytes) };
      for (const execute of Object.values(sides)) {
        const echoed = await execute(args);
        if (echoed !== args.value) throw new Error(`echo returned ${String(echoed).slice(0, 40)}`);
      }
      for (const c of concurrencies) {
        const runs = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
        for (const execute of Object.values(sides))
          await closedLoop(() => execute(args), {
            concurrency: c,
            maxCalls: 50,
            maxMs: bounds.maxMs / 4,
          });
        const names = Object.keys(sides);
        for (let r = 0; r < rounds; r++) {
          for (let k = 0; k < names.length; k++) {
            const name = names[(k + r) % names.length];
            runs[name].push(
              await closedLoop(() => sides[name](args), { concurrency: c, ...bounds }),
            );
          }
        }
        // Median of the rounds' own ratios: two paths measured within one round.
        const ratio = (a, b) => median(runs[a].map((x, r) => x.perSecond / runs[b][r].perSecond));
        for (const name of names) {
          const row = {
            size,
            concurrency: c,
            name,
            rate: median(runs[name].map((x) => x.perSecond)),
            cpu: median(runs[name].map((x) => x.cpuUsPerCall)),
            shell: ratio(name, SHELL),
            pipe: ratio(name, PIPE),
            grpc: twin[name] === undefined ? undefined : ratio(name, twin[name]),
          };
          rows.push(row);
          print(
            `  ${size} c=${c} ${name}: ${rate(row.rate)}/s, ${row.cpu.toFixed(1)} µs CPU/call (${row.shell.toFixed(2)}× python-shell, ${row.pipe.toFixed(2)}× pipe${row.grpc === undefined ? "" : `, ${row.grpc.toFixed(1)}× its gRPC twin`})`,
          );
        }
      }
    }
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.close()));
    await shell.close();
    await pipe.close();
  }
  const find = (size, c, name) =>
    rows.find((r) => r.size === size && r.concurrency === c && r.name === name);
  const targets = [];
  for (const c of concurrencies) {
    const r = find("100 B", c, DEFAULT_POOL);
    if (r !== undefined)
      targets.push([
        `100 B, c=${c}: defaults ÷ python-shell`,
        r.shell,
        `≥ ${TARGETS.shell}`,
        r.shell >= TARGETS.shell,
      ]);
  }
  for (const c of concurrencies) {
    const r = find("1 MiB", c, DEFAULT_POOL);
    if (r !== undefined)
      targets.push([
        `1 MiB, c=${c}: defaults ÷ raw pipe`,
        r.pipe,
        `≥ ${TARGETS.pipe}`,
        r.pipe >= TARGETS.pipe,
      ]);
  }
  for (const [name, , grpcName] of poolSpecs().filter((s) => s[2] !== undefined)) {
    const r = find("100 B", 8, name);
    if (r !== undefined)
      targets.push([
        `100 B, c=8: ${name.replace("pool, frames, ", "")} ÷ ${grpcName.replace("pool, ", "")}`,
        r.grpc,
        `≥ ${TARGETS.grpc}`,
        r.grpc >= TARGETS.grpc,
      ]);
  }
  const cpu = find("100 B", 64, DEFAULT_POOL);
  if (cpu !== undefined)
    targets.push([
      `100 B, c=64: defaults, Node CPU µs per call (${(cpu.cpu - (backgroundMsPerS * 1000) / cpu.rate).toFixed(1)} without the idle pools' background)`,
      cpu.cpu,
      `≤ ${TARGETS.nodeUs}`,
      cpu.cpu <= TARGETS.nodeUs,
    ]);
  const met = targets.filter((t) => t[3]).length;
  const lines = [
    "| payload | concurrency | path | calls/s | Node CPU µs/call | ÷ python-shell | ÷ raw pipe | frames ÷ its gRPC twin |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.concurrency} | ${r.name} | ${rate(r.rate)} | ${r.cpu.toFixed(1)} | ${r.shell.toFixed(2)}× | ${r.pipe.toFixed(2)}× | ${r.grpc === undefined ? "" : `${r.grpc.toFixed(1)}×`} |`,
    ),
    "",
    `With no call running, the ${specs.length} pools' background (heartbeats both ways) cost this process ${backgroundMsPerS.toFixed(1)} ms of CPU per second, which every round is charged: at 20,000 calls/s that is ${((backgroundMsPerS * 1000) / 20_000).toFixed(2)} µs per call.`,
    "",
    `Targets (issue 13), on the pool with default options and 1 worker (\`createPool({ adapter, size: 1 })\`: frames, process profile, pipelineDepth 32) unless named, ratios measured in this run (median of per-round ratios): ${met} of ${targets.length} met.`,
    "",
    "| target | measured | wanted | met |",
    "|---|---|---|---|",
    ...targets.map(
      ([label, value, wanted, ok]) =>
        `| ${label} | ${label.includes("µs") ? value.toFixed(1) : `${value.toFixed(2)}×`} | ${wanted}${label.includes("µs") ? "" : "×"} | ${check(ok)} |`,
    ),
  ];
  const table = lines.join("\n");
  print(table);
  return { table, rows, targets };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchPeers();
