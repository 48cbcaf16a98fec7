// Two hosts, one Redis: two Node processes, each with its own pool of Python workers, share
// session state through @snakepit/session-redis, as app instances behind a load balancer would.
// Uses REDIS_URL when set, else starts a private redis-server when one is installed.
// Run it with `pnpm --filter @snakepit/examples run two-hosts`. See docs/scaling.md.
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { hasRedisServer, type LocalRedis, startLocalRedis } from "./local-redis.js";
import type { HostReply, HostRequest } from "./two-hosts-host.js";

/** A host process and a way to ask it for calls. */
interface Host {
  readonly name: string;
  call(
    tool: string,
    sessionId: string,
    args?: Record<string, unknown>,
    times?: number,
  ): Promise<unknown>;
  stop(): Promise<void>;
}

// The host script is compiled: run from src/ (tests) or dist/, it lives in dist/.
const hostScript = fileURLToPath(new URL("../dist/two-hosts-host.js", import.meta.url));

async function startHost(name: string, url: string): Promise<Host> {
  const child: ChildProcess = fork(hostScript, [], {
    env: { ...process.env, EXAMPLE_REDIS_URL: url, EXAMPLE_HOST: name },
  });
  const exited = once(child, "exit");
  const waiting = new Map<number, (reply: HostReply) => void>();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    exited.then(
      ([code]) => reject(new Error(`host ${name} exited with ${code} at start`)),
      () => undefined,
    );
  });
  child.on("message", (reply: HostReply) => waiting.get(reply.id)?.(reply));
  return {
    name,
    async call(tool, sessionId, args = {}, times = 1) {
      const id = nextId++;
      const reply = await new Promise<HostReply>((resolve) => {
        waiting.set(id, resolve);
        child.send({ id, tool, sessionId, args, times } satisfies HostRequest);
      });
      waiting.delete(id);
      if (reply.error !== undefined) throw new Error(`${name}: ${tool} failed with ${reply.error}`);
      return reply.value;
    },
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/** Runs the example; `print` receives what it shows. Resolves false when no Redis is available. */
export async function twoHosts(print: (line: string) => void = console.log): Promise<boolean> {
  let local: LocalRedis | undefined;
  let url = process.env.REDIS_URL;
  if (url === undefined) {
    if (!hasRedisServer()) {
      print(
        "No REDIS_URL and no redis-server here: install redis-server (apt-get install redis-server) to run this example.",
      );
      return false;
    }
    local = await startLocalRedis();
    url = local.url;
  }
  const hosts: Host[] = [];
  try {
    const [a, b] = await Promise.all([startHost("host-a", url), startHost("host-b", url)]);
    hosts.push(a, b);
    const session = `user-${Date.now()}`;
    print(
      `host-a adds: ${JSON.stringify(await a.call("add_to_cart", session, { item: "apple" }))}`,
    );
    print(`host-b adds: ${JSON.stringify(await b.call("add_to_cart", session, { item: "pear" }))}`);
    const seen = (await a.call("cart", session)) as { items: string[] };
    print(`host-a reads the cart: ${JSON.stringify(seen.items)}`);
    // 50 visits from each host at once: conditional writes retry, none is lost.
    await Promise.all([
      a.call("count_visit", session, {}, 50),
      b.call("count_visit", session, {}, 50),
    ]);
    print(
      `visits counted by both hosts at once: ${await b.call("count_visit", session)} (100 + this one)`,
    );
    return true;
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    await local?.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  twoHosts().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
