import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createHeartbeatMonitor, type HeartbeatFailure } from "@snakepit/heartbeat";

/** Watches a real HTTP health URL, takes the service down, and resolves with the failure. */
export async function watchHealthUntilDown(): Promise<{
  failure: HeartbeatFailure;
  pongs: number;
}> {
  // Any service with a health URL will do; here a local one we can take down.
  const server = createServer((req, res) => {
    res.writeHead(req.url === "/health" ? 200 : 404).end("ok");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;

  let pongs = 0;
  const failed = new Promise<HeartbeatFailure>((resolve) => {
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
        if (event.type === "pong_received") pongs += 1;
      },
      onFailure: resolve, // called once, after 3 misses in a row
    });
    monitor.start();
  });

  while (pongs < 3) await sleep(50); // a few healthy beats...
  server.close(); // ...then the service goes away
  server.closeAllConnections();
  return { failure: await failed, pongs };
}
