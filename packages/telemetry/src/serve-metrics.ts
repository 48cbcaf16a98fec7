import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SnakepitError } from "@snakepit/errors";
import {
  expectBoolean,
  expectInteger,
  expectString,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";
import type { Registry } from "prom-client";

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** The registry to expose (the one given to `createMetrics`). */
  readonly registry: Registry;
  /** TCP port. Default `0`: any free port (read it from `url`). */
  readonly port?: number;
  /** Interface to listen on. Default `"127.0.0.1"`: loopback only. */
  readonly host?: string;
  /** Path that answers with the metrics. Default `"/metrics"`. */
  readonly path?: string;
  /**
   * Must be `true` to listen on anything but loopback (`0.0.0.0`, `::`, a LAN address): metrics
   * name your tools and pools, so exposing them is a decision. Default `false`.
   */
  readonly allowAllInterfaces?: boolean;
  /** Aborting it closes the server. */
  readonly signal?: AbortSignal;
}

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** The full URL to scrape, e.g. `http://127.0.0.1:41234/metrics`. */
  readonly url: string;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Serves `registry` in the Prometheus text format at `path`, for applications without an HTTP
 * server of their own. Listens on loopback unless `allowAllInterfaces` is `true`. Resolves once
 * listening; rejects with `INVALID_OPTIONS` for bad options and `TRANSPORT_ERROR` if the port
 * cannot be bound.
 */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  if (typeof options !== "object" || options === null)
    throw invalidOption("options", "an object", options);
  rejectUnknownKeys(options, ["registry", "port", "host", "path", "allowAllInterfaces", "signal"]);
  const { registry, signal } = options;
  if (typeof registry !== "object" || registry === null || typeof registry.metrics !== "function")
    throw invalidOption("registry", "a prom-client Registry", registry);
  const port = expectInteger("port", options.port ?? 0);
  if (port > 65535) throw invalidOption("port", "an integer from 0 to 65535", port);
  const host = expectString("host", options.host ?? "127.0.0.1");
  const path = expectString("path", options.path ?? "/metrics");
  if (!path.startsWith("/")) throw invalidOption("path", "a path starting with `/`", path);
  const allowAll = expectBoolean("allowAllInterfaces", options.allowAllInterfaces ?? false);
  if (!allowAll && !isLoopback(host))
    throw invalidOption("host", "a loopback address unless `allowAllInterfaces` is true", host);
  signal?.throwIfAborted();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`);
      },
    );
  });
  server.listen(port, host);
  try {
    await once(server, "listening", signal ? { signal } : {});
  } catch (err) {
    server.close();
    throw SnakepitError.from(err, signal?.aborted ? "ABORTED" : "TRANSPORT_ERROR");
  }

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      signal?.removeEventListener("abort", onAbort);
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  const onAbort = () => void close();
  signal?.addEventListener("abort", onAbort, { once: true });

  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { url: `http://${shown}:${address.port}${path}`, close };
}
