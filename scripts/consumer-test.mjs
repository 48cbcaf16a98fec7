#!/usr/bin/env node
// The consumer test: packs every publishable package (`pnpm pack`, as `changeset publish` would
// ship it), installs the tarballs with npm into apps in a temp directory outside the workspace,
// and uses them there as a user would: every export of every package imported (ESM) and
// required (CommonJS, `require(esm)`), a pool call with real Python, the `snakepit` bin,
// `@snakepit/heartbeat` and `@snakepit/process-killer` each installed alone, and tracing with
// the current OpenTelemetry majors. A packaging mistake fails here rather than for a user.
// Needs the packages built (`pnpm build`) and a Python with the bridge's requirements
// ($SNAKEPIT_PYTHON, else the repository's .venv from `pnpm setup:python`). Runs in CI (.ci/run).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const python = process.env.SNAKEPIT_PYTHON ?? join(root, ".venv/bin/python");
if (!existsSync(python)) throw new Error(`no Python at ${python}: run \`pnpm setup:python\` first`);
const work = mkdtempSync(join(tmpdir(), "snakepit-consumer-"));
const results = [];

function run(cmd, args, cwd, env = {}) {
  return execFileSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 600_000,
  });
}

/** One check: runs `fn`, records passed/failed with the reason, never throws. */
function check(name, fn) {
  const started = performance.now();
  try {
    const out = fn();
    const ms = Math.round(performance.now() - started);
    console.log(
      `ok   ${name} (${ms} ms)${out ? `\n${String(out).trimEnd().replace(/^/gm, "     ")}` : ""}`,
    );
    results.push(true);
  } catch (err) {
    const detail = [err.message, err.stdout, err.stderr].filter(Boolean).join("\n");
    console.log(`FAIL ${name}\n${detail.trimEnd().replace(/^/gm, "     ")}`);
    results.push(false);
  }
}

/** An app directory with a package.json; `npm install`s the given specs into it. */
function app(name, specs, type = "module") {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type }, null, 2));
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...specs], dir);
  return dir;
}

try {
  // 1. Pack every publishable package.
  const tarballs = new Map();
  const packed = join(work, "tarballs");
  mkdirSync(packed);
  for (const name of readdirSync(join(root, "packages"))) {
    const dir = join(root, "packages", name);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (manifest.private) continue;
    const before = new Set(readdirSync(packed));
    run("pnpm", ["pack", "--pack-destination", packed], dir);
    const file = readdirSync(packed).find((f) => !before.has(f));
    tarballs.set(manifest.name, { file: join(packed, file), manifest });
  }
  console.log(`packed ${[...tarballs.keys()].join(", ")}`);
  const tarball = (name) => tarballs.get(name).file;

  // 2. The whole set, plus the current OpenTelemetry majors (the telemetry peers must admit them).
  const otel = [
    "@opentelemetry/api@latest",
    "@opentelemetry/sdk-trace@latest",
    "@opentelemetry/resources@latest",
    "@opentelemetry/exporter-trace-otlp-http@latest",
  ];
  let full;
  check(
    "npm installs every tarball with the current OpenTelemetry majors (no peer conflict)",
    () => {
      full = app("full-app", [...[...tarballs.values()].map((t) => t.file), ...otel]);
      const versions = otel.map((spec) => {
        const name = spec.slice(0, spec.lastIndexOf("@"));
        return `${name}@${JSON.parse(readFileSync(join(full, "node_modules", name, "package.json"), "utf8")).version}`;
      });
      return versions.join(", ");
    },
  );
  if (full === undefined) throw new Error("cannot go on without the installed app");

  check(
    "every export of every package imports (ESM) and requires (CommonJS), types present",
    () => {
      const lines = [];
      for (const [name, { manifest }] of tarballs) {
        for (const [subpath, target] of Object.entries(manifest.exports ?? { ".": {} })) {
          if (subpath === "./package.json") continue;
          const specifier = subpath === "." ? name : `${name}/${subpath.slice(2)}`;
          const types = typeof target === "object" ? target.types : undefined;
          if (types !== undefined && !existsSync(join(full, "node_modules", name, types)))
            throw new Error(`${specifier}: types file ${types} is not in the tarball`);
          const script = `
          const esm = await import(${JSON.stringify(specifier)});
          const cjs = (await import("node:module")).createRequire(process.cwd() + "/")(${JSON.stringify(specifier)});
          const names = Object.keys(esm).filter((k) => k !== "default" && k !== "module.exports");
          if (names.length === 0) throw new Error("no exports");
          for (const n of names) if (cjs[n] !== esm[n]) throw new Error("require() differs at " + n);
          console.log(names.length);`;
          const count = run(process.execPath, ["--input-type=module", "-e", script], full).trim();
          lines.push(`${specifier}: ${count} exports`);
        }
      }
      return lines.join("\n");
    },
  );

  writeFileSync(
    join(full, "consumer_adapter.py"),
    `from snakepit_bridge import Adapter, tool\n\n\nclass ConsumerAdapter(Adapter):\n    @tool\n    def add(self, a: int, b: int) -> int:\n        """Add two integers."""\n        return a + b\n`,
  );
  writeFileSync(
    join(full, "pool-call.mjs"),
    `import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { trace } from "@opentelemetry/api";
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
const env = await resolvePythonEnvironment();
if (!env.bridge.path.includes("node_modules")) throw new Error("bridge not from node_modules: " + env.bridge.path);
const pool = createPool({ adapter: "./consumer_adapter.py:ConsumerAdapter", size: 1, registry: false });
try {
  const sum = await pool.execute("add", { a: 40, b: 2 });
  if (sum !== 42) throw new Error("add returned " + sum);
} finally {
  await pool.close();
}
const spans = exporter.getFinishedSpans().map((s) => s.name);
if (!spans.includes("snakepit.call add")) throw new Error("no call span: " + spans.join(", "));
console.log("add(40, 2) = 42 in a real Python worker; bridge " + env.bridge.source + " at " + env.bridge.path + "; span " + spans.join(", "));
`,
  );
  check("a pool call with real Python, traced by the current OpenTelemetry SDK", () =>
    run(process.execPath, ["pool-call.mjs"], full, { SNAKEPIT_PYTHON: python }),
  );

  check("the snakepit bin: --version, doctor on the adapter", () => {
    const version = run("npx", ["--no-install", "snakepit", "--version"], full).trim();
    const expected = tarballs.get("@snakepit/pool").manifest.version;
    if (version !== expected) throw new Error(`--version printed ${version}, not ${expected}`);
    const doctor = run(
      "npx",
      [
        "--no-install",
        "snakepit",
        "doctor",
        "--adapter",
        "consumer_adapter.py:ConsumerAdapter",
        "--json",
      ],
      full,
      { SNAKEPIT_PYTHON: python },
    );
    const report = JSON.parse(doctor);
    if (!report.ok || report.adapter.tools.join() !== "add") throw new Error(doctor);
    return `snakepit ${version}; doctor ok, tools: ${report.adapter.tools.join(", ")}`;
  });

  writeFileSync(
    join(full, "require-pool.cjs"),
    `const { createPool, SnakepitError } = require("@snakepit/pool");
if (typeof createPool !== "function" || typeof SnakepitError !== "function") throw new Error("require('@snakepit/pool') lacks createPool");
console.log("require('@snakepit/pool') works on Node " + process.version);
`,
  );
  check("CommonJS: require('@snakepit/pool')", () =>
    run(process.execPath, ["require-pool.cjs"], full),
  );

  // 3. The packages that need no Python, each installed alone (with only what it depends on).
  const alone = (name) => {
    const deps = Object.keys(tarballs.get(name).manifest.dependencies ?? {}).filter((d) =>
      tarballs.has(d),
    );
    return [tarball(name), ...deps.map(tarball)];
  };
  check(
    "@snakepit/heartbeat alone: a monitor pings a real HTTP server and fails when it stops",
    () => {
      const dir = app("heartbeat-app", alone("@snakepit/heartbeat"));
      writeFileSync(
        join(dir, "heartbeat.mjs"),
        `import { once } from "node:events";
import { createServer } from "node:http";
import { createHeartbeatMonitor } from "@snakepit/heartbeat";

const server = createServer((_, res) => res.end("ok")).listen(0, "127.0.0.1");
await once(server, "listening");
const url = "http://127.0.0.1:" + server.address().port + "/";
let pongs = 0;
// The monitor's timers are unref'd: once the server is gone, this keeps the script waiting.
const keepAlive = setInterval(() => {}, 1000);
const failed = new Promise((resolve) => {
  const monitor = createHeartbeatMonitor({
    intervalMs: 50, timeoutMs: 10000, maxMissed: 2,
    ping: async (signal) => { await (await fetch(url, { signal })).text(); pongs++; if (pongs === 3) { server.close(); server.closeAllConnections(); } },
    onFailure: (failure) => { monitor.stop(); resolve(failure); },
  });
  monitor.start();
});
const failure = await failed;
clearInterval(keepAlive);
server.close();
server.closeAllConnections();
if (pongs < 3 || failure.reason !== "max-missed") throw new Error(pongs + " pongs, then " + failure.reason);
console.log("pongs: " + pongs + ", then failure: " + failure.reason + ", " + failure.error.code);
`,
      );
      return run(process.execPath, ["heartbeat.mjs"], dir);
    },
  );

  check("@snakepit/process-killer alone: kills a real process that ignores SIGTERM", () => {
    const dir = app("process-killer-app", alone("@snakepit/process-killer"));
    writeFileSync(
      join(dir, "kill.mjs"),
      `import { spawn } from "node:child_process";
import { readProcessIdentity, killWithEscalation } from "@snakepit/process-killer";

const child = spawn("sh", ["-c", "trap '' TERM; while :; do sleep 0.1; done"], { detached: true, stdio: "ignore" });
await new Promise((r) => setTimeout(r, 200));
const identity = readProcessIdentity(child.pid);
const outcome = await killWithEscalation(identity, { graceMs: 300 });
if (outcome.reason !== "forced") throw new Error("expected forced, got " + JSON.stringify(outcome));
console.log("pid " + outcome.pid + ": " + outcome.reason);
`,
    );
    return run(process.execPath, ["kill.mjs"], dir);
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}

const passed = results.filter(Boolean).length;
const failed = results.length - passed;
console.log(`consumer: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
