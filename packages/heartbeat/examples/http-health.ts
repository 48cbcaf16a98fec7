import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createHeartbeatMonitor, type HeartbeatFailure } from "@snakepit/heartbeat";

// Any service with a health URL will do; here a local one that turns unhealthy after 3 pongs.
let healthy = true;
const server = createServer((req, res) => {
  res.writeHead(req.url === "/health" && healthy ? 200 : 503).end();
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;

let pongs = 0;
const failure = await new Promise<HeartbeatFailure>((resolve) => {
  const monitor = createHeartbeatMonitor({
    name: url,
    intervalMs: 100,
    timeoutMs: 1000,
    maxMissed: 3,
    // A pong is a 2xx answer in time; a refused connection or a 5xx is a miss.
    ping: async (signal) => {
      const res = await fetch(url, { signal });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    },
    onEvent: (event) => {
      if (event.type === "pong_received" && ++pongs === 3) healthy = false;
    },
    onFailure: resolve, // called once, after 3 misses in a row
  });
  monitor.start();
});

// The monitor's timers are unref'd (it never keeps an app alive by itself): until here, the
// server is what kept this script running. A script that awaited only the monitor would exit
// with code 13 ("unsettled top-level await") before the failure.
server.close();
server.closeAllConnections();
console.log(
  `${pongs} pongs, then ${failure.reason} after ${failure.missed} misses (${failure.error.code})`,
);
