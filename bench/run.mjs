// `pnpm bench`: runs every benchmark, prints the tables and rewrites docs/benchmarks.md.
// `SNAKEPIT_BENCH_QUICK=1` shrinks every benchmark to a smoke run (the doc says so);
// `SNAKEPIT_BENCH_ORPHAN_RUNS` sets the number of host SIGKILLs per start mode (default 100);
// `SNAKEPIT_BENCH_ONLY=orphans,startup` runs only those sections and replaces only them in the doc.
// Keys: transport, overhead, pool-size, peers, startup, heartbeat, telemetry, sessions, orphans.
// Not part of the run: `C=64 SIZE=1 T=frames node bench/cpu-per-call.mjs` prints calls/s, Node CPU
// and Python CPU µs per call of one pool (env: C, SIZE, T, DEPTH, PROFILE, BYTES; see its top
// comment), the quick check while optimising the hot path.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { benchDispatchCost } from "./dispatch-cost.mjs";
import { benchHeartbeat } from "./heartbeat.mjs";
import { quick } from "./load.mjs";
import { benchOrphans } from "./orphans.mjs";
import { benchOverhead, payloads as overheadPayloads, PROCESS_SETS } from "./overhead.mjs";
import { benchPeers } from "./peers.mjs";
import { benchPoolSize } from "./pool-size.mjs";
import { benchSessions } from "./sessions.mjs";
import { benchStartup } from "./startup.mjs";
import { benchTelemetry } from "./telemetry.mjs";
import { benchTelemetryOverhead } from "./telemetry-overhead.mjs";
import { benchTransport } from "./transport.mjs";

const started = performance.now();
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(" / ");
const machine = `${availableParallelism()} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
console.log(
  `machine: ${machine}; load average at start (1/5/15 min): ${load}${quick ? "; QUICK" : ""}\n`,
);

const only = process.env.SNAKEPIT_BENCH_ONLY?.split(",").map((k) => k.trim());
const sections = [];
/** Runs one benchmark (`key` for SNAKEPIT_BENCH_ONLY) under a heading and keeps its caption and table for the doc. */
async function section(key, title, caption, run) {
  if (only !== undefined && !only.includes(key)) return;
  console.log(`\n## ${title}`);
  const t0 = performance.now();
  const table = await run();
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`(${seconds} s)`);
  sections.push(`## ${title}\n\n${caption}\n\n${table}`);
}

await section(
  "transport",
  "Transport: grpc-js vs connect-node",
  `100-byte echo against one real Python worker (64 slots) over its Unix socket, ${quick ? 200 : "2,000"} calls per cell, each client alone (not alternated, so more exposed to load drift than the tables below). This chose the pool's transport (grpc-js).`,
  async () => (await benchTransport(quick ? { calls: 200 } : {})).table,
);

await section(
  "overhead",
  "Per-call overhead: pool vs raw client, both transports",
  `\`pool.execute("echo")\` against a raw client of the same transport calling the pool's own Python workers directly — the same processes on both sides — with the thread profile and 64 slots per worker (\`profile: "thread", threadsPerWorker: 64\`), so both sides can hold the same calls in flight, and the difference is the pool's own path (queue, worker choice, deadline/abort wiring, event publishing, correlation and call ids). gRPC: \`createGrpcJsWorkerClient(address).execute("echo")\` (the faster gRPC client above) connected to the pool's workers (\`stats().workerDetails[].address\`). Frames: each worker's own client, \`workerProcessesOf(pool)[i].client.execute("echo")\` (\`@snakepit/pool/internal\`; the same \`createFramesWorkerClient\` the pool calls through; a frames socket is a private socketpair, so nothing else reaches it). The pool's heartbeats, on by default, run under both sides. Raw calls to 2 workers go round-robin over 2 clients (what a hand-written client does: the target's column). The pool gives a call to an idle worker first, else to the busy worker holding the fewest calls (the one used last among equals), which keeps the calls one worker's answers start on that worker, in one write; the last column, with no target, is the pool against raw calls that follow that same rule (the client with the fewest calls in flight), so it shows the pool's path without what its worker choice gains over round-robin. 1 MiB payloads are a \`Buffer\` (raw bytes on the wire, both ways, on both transports). Closed loop at each concurrency, bounded per round by calls (3,000 small / 300 large) and time (0.15 s small / 0.5 s large); ${quick ? "1 round" : "40 rounds"} per small-payload cell, ${quick ? "1" : Math.ceil(overheadPayloads["1 MiB"].rounds / PROCESS_SETS) * PROCESS_SETS} per 1 MiB cell, each running the sides back to back (the order alternates), spread over ${quick ? "1 set" : `${PROCESS_SETS} fresh sets`} of processes (where the OS scheduler places a set of processes lasts their lifetime and moves its throughput by 10 % and more at c=64: that cancels out of a round's ratio, both sides calling the same processes, but not out of the calls/s columns). The calls/s columns are medians over rounds; pool ÷ raw is the median of the rounds' own ratios, each comparing runs a fraction of a second apart, so load from other work on the machine, which drifts between rounds, cancels out of it. ✗ marks a cell below the target (issue 13: ≥ 0.9 in every cell, both transports). The two CPU columns are the CPU time of the benchmark process itself (user + system) per completed call: the host-side cost of a call, which load from other work on the machine disturbs far less than throughput does; the extra of the pool over raw is its own per-call overhead.`,

  async () => (await benchOverhead()).table,
);

await section(
  "pool-size",
  "Host cost per call against pool size",
  `Node CPU time (user + system of the benchmark process) per 100-byte echo with ${quick ? "32" : "256"} workers vs 2 workers, at the same client concurrency, on the default transport and profile (frames; process, pipelineDepth 32: a worker holds up to 32 quick calls): c=1 finds a free worker at once; at c=128, 512 and 2048 the large pool has a call on as many workers as there are cores and packs the rest into busy workers' windows (up to 32 quick calls each: about 4, 16 and 64 workers busy, the rest idle), while on 2 workers the windows are full (64 calls held) and the rest wait in the queue, each completion handing its room to the next waiting call. Workers forked (fork mode: 256 spawned Pythons take minutes on 2 cores), heartbeats (both ways), health checks and memory samples all off (they cost per worker per second, not per call, and would be charged to the large pool's calls). Both pools live side by side; ${quick ? "2" : "7"} alternating rounds of up to ${quick ? 300 : "3,000"} calls (at least 3 per client lane) / ${quick ? 0.3 : 1.5} s; medians. Target (issue 13): 256 ÷ 2 ≤ 1.2. On a small machine the 256 idle Python processes still cost the host something (their sockets, the OS scheduler), and the large pool's throughput is what 2 cores give it: read the CPU per call, not calls/s.`,
  async () => {
    const own = await benchDispatchCost();
    const real = await benchPoolSize();
    return `${real.table}\n\nThe pool's own path alone (dispatcher, worker set and call lease from the build, over in-memory workers whose RPC answers on the next turn of the event loop; bench/dispatch-cost.mjs), medians of alternating rounds:\n\n${own.table}`;
  },
);

await section(
  "peers",
  "Peers: the pool on both transports, python-shell and a raw stdio pipe",
  `The same echo (a 100-byte and a 1 MiB string) through pools on both transports and through the simplest peers, each one Python process: python-shell 5.0.0 in json mode (one JSON line each way) and a raw 4-byte-length-prefixed pipe to bench/fixtures/pipe_echo.py (which json-decodes and re-encodes each message). The pools: the one a newcomer gets, \`createPool({ adapter, size: 1 })\` (default options: frames, process profile, pipelineDepth 32; only the interpreter, a name and \`registry: false\` passed, none on the call path), then frames with 2 workers, frames with the thread profile (64 slots) on 1 and 2 workers, and the same four on gRPC (\`transport: "grpc"\`), all plainly spawned. 1 MiB is a JSON string on every path: the pool JSON-encodes its arguments and result just as the peers do, so every path does the same work (a \`Buffer\` would travel as raw bytes on the pool only). At concurrency 8 the peers have 8 requests pipelined on stdin, answered in order (they run one at a time in Python). ${quick ? "1 round" : "5 alternating rounds (100 B, up to 5,000 calls / 0.5 s each) and 3 (1 MiB, up to 300 calls / 1 s)"} per cell; calls/s and Node CPU are medians, every ratio is the median of the rounds' own ratios (two paths measured in the same round); "frames ÷ its gRPC twin" compares a frames pool with the gRPC pool of the same profile and worker count. Node CPU is the benchmark process's user + system time per call. The targets of issue 13 are checked under the table.`,
  async () => (await benchPeers()).table,
);

await section(
  "startup",
  "Worker start-up: spawn vs fork",
  "Time until 10 / 50 / 100 workers started at once are all ready, and PSS per idle worker, plain spawn vs forked from a fork server, in one run, with an adapter that imports json, decimal and sqlite3 (packages/python-bridge/test/fixtures/preload_adapter.py). Target (issue 8): 100 workers ready in under 1 s and under 6 MiB PSS per idle worker.",
  () => benchStartup(quick ? { sizes: [10] } : {}),
);

await section(
  "heartbeat",
  "Heartbeat overhead",
  `The same load (\`add\`) against two pools of 2 workers on the default transport (frames), heartbeats on (defaults: a ping per worker every 2 s) and off, ${quick ? "1 round" : "7 rounds"} of ${quick ? "0.2 s" : "2 s (one heartbeat interval, so every round holds heartbeats)"} each at concurrency 8, with a fresh pair of pools every round, created and measured in alternating order (two pools alive side by side differ by several per cent for reasons of their own, such as where the scheduler put their processes: an A/A run of two identical pools, one pair for the whole run, gave 0.93); calls/s are medians, the ratio is the median of the rounds' own ratios.`,
  async () => (await benchHeartbeat(quick ? { rounds: 1, maxMs: 200 } : {})).table,
);

await section(
  "telemetry",
  "Telemetry: on vs off at the frames pool's speed, and per-event cost",
  `Throughput: the pool with default options (frames, process profile, pipelineDepth 32, heartbeats on; 1 and 2 plainly spawned workers), 100-byte echo at concurrency 8 and 64, three ways in alternating rounds: off (no subscriber, the default silent logger, no OpenTelemetry SDK); metrics + pino — Prometheus metrics subscribed (\`createMetrics\` into a fresh prom-client \`Registry\`) and a pino logger at \`info\` writing to a temp file (a twin pool created with it; the pool logs lifecycle at info, per-call lines are debug) — whose target (issue 13) is ≥ 0.8× off; and the same plus an OpenTelemetry SDK (\`BasicTracerProvider\` + \`SimpleSpanProcessor\` + \`InMemorySpanExporter\`: a client span per call, \`traceparent\` sent to Python), measured separately, with no target (spans cost what the SDK costs). Metrics and tracing are process-global, so they are switched on only around the rounds that use them. ${quick ? "1 round" : "7 rounds"} per cell of up to ${quick ? 300 : "5,000"} calls / ${quick ? 0.15 : 0.7} s each; calls/s and Node CPU (user + system of the benchmark process, per call) are medians, the ratios are medians of the rounds' own ratios. Then the cost of one catalogue event (\`publish\`) in a tight loop, medians of 7 rounds (target with no subscriber: under 1 µs).`,
  async () => {
    const overhead = await benchTelemetryOverhead();
    const events = benchTelemetry(quick ? { n: 100_000 } : {});
    console.log(events.table);
    return `${overhead.table}\n\n${events.table}\n\nPer event with no subscriber: ${events.idleNs.toFixed(1)} ns (target < 1,000 ns: ${events.ok ? "met" : "missed"}).`;
  },
);

await section(
  "sessions",
  "Sessions: memory store vs Redis store",
  `Two pools of 2 workers, one with the in-memory session store, one with \`@snakepit/session-redis\` on a real redis-server (Unix socket, password) started for the run. The tool (\`incr\` in packages/session-redis/test/fixtures/session_adapter.py) reads a session counter and writes it back conditionally (\`session.update\`): two host round trips, each a store operation, per call; 64 sessions, concurrency 8. ${quick ? "1 round" : "7 alternating rounds"} of up to ${quick ? 200 : "2,000"} calls / ${quick ? 0.5 : 2} s; medians. Then ${quick ? 200 : "3,000"} sequential \`get\`s and \`set\`s of a small JSON value straight on each store from Node: p50 / p99 of one round trip.`,
  async () => (await benchSessions()).table,
);

const iterations = Number(process.env.SNAKEPIT_BENCH_ORPHAN_RUNS ?? (quick ? 3 : 100));
await section(
  "orphans",
  `Zero orphans: host SIGKILLed ${iterations} times per start mode`,
  "A real Node host with a pool of 8 workers (2 idle, 3 in a CPU-bound tool, 3 sleeping in a tool) is SIGKILLed; time until every worker process is gone (all lifelines on), in each start mode: workers spawned, and workers forked from a fork server. A worker whose host is gone does not wait for its calls in flight (nobody can receive their results). Target (issue 14): median under 100 ms, worst under 1 s. Set `SNAKEPIT_BENCH_ORPHAN_RUNS` to change the count per mode.",
  async () => (await benchOrphans({ iterations })).table,
);

const total = ((performance.now() - started) / 1000).toFixed(0);
const docPath = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));
if (only !== undefined) {
  // Replace just the sections that ran, keeping the rest of the doc (and its header) as it was.
  let doc = readFileSync(docPath, "utf8");
  for (const section of sections) {
    const text = `${section}\n\nThis section was rerun alone (\`SNAKEPIT_BENCH_ONLY\`) on ${machine}; load average at start: ${load}.`;
    const heading = text.slice(0, text.indexOf("\n"));
    const prefix = heading.includes(":") ? heading.slice(0, heading.indexOf(":") + 1) : heading;
    const at = doc.indexOf(prefix);
    const end = at === -1 ? -1 : doc.indexOf("\n## ", at + 1);
    if (at === -1) doc = `${doc.trimEnd()}\n\n${text}\n`;
    else doc = `${doc.slice(0, at)}${text}\n${end === -1 ? "" : doc.slice(end)}`;
  }
  writeFileSync(docPath, doc);
  console.log(`\ndocs/benchmarks.md: ${sections.length} section(s) replaced (${total} s)`);
  process.exit(0);
}
const doc = `# Benchmarks\n\nGenerated by \`pnpm bench\` (bench/run.mjs) on ${machine}, in ${total} s${quick ? " — a QUICK smoke run (`SNAKEPIT_BENCH_QUICK=1`), not representative" : ""}. Load average at start (1 / 5 / 15 min): ${load} — other work shares this machine, so absolute numbers vary between runs; each table compares against a baseline measured in the same run, which is what to read. Rerun to regenerate.\n\n${sections.join("\n\n")}\n`;
writeFileSync(docPath, doc);
console.log(`\ndocs/benchmarks.md written (${total} s)`);
