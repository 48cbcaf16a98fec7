import { isSnakepitError } from "@snakepit/errors";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics, serveMetrics } from "./index.js";
import { publish } from "./internal.js";

describe("serveMetrics (real HTTP on loopback)", () => {
  it("serves the registry at /metrics and is scraped with fetch", async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry });
    const server = await serveMetrics({ registry });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      publish("snakepit:call:end", {
        pool: "p",
        tool: "add",
        callId: "c",
        correlationId: "k",
        workerId: "w",
        durationMs: 3,
      });
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const body = await res.text();
      expect(body).toContain('snakepit_calls_total{pool="p",tool="add",outcome="ok"} 1');
      expect(body).toContain("# TYPE snakepit_call_duration_seconds histogram");
      expect((await fetch(new URL("/other", server.url))).status).toBe(404);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
    } finally {
      await server.close();
      await server.close();
      metrics.dispose();
    }
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it("closes when its signal aborts", async () => {
    const controller = new AbortController();
    const server = await serveMetrics({
      registry: new Registry(),
      path: "/m",
      signal: controller.signal,
    });
    expect(server.url.endsWith("/m")).toBe(true);
    controller.abort();
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it.each([
    [{ host: "0.0.0.0" }, "host"],
    [{ host: "::" }, "host"],
    [{ port: 70000 }, "port"],
    [{ path: "metrics" }, "path"],
    [{ allowAllInterfaces: "yes" }, "allowAllInterfaces"],
  ])("refuses %o (option `%s`)", async (extra, option) => {
    const err = await serveMetrics({ registry: new Registry(), ...extra } as never).catch((e) => e);
    expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
    expect(err.details.option).toBe(option);
  });

  it("listens on all interfaces only when allowAllInterfaces is true", async () => {
    const server = await serveMetrics({
      registry: new Registry(),
      host: "0.0.0.0",
      allowAllInterfaces: true,
    });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("rejects with TRANSPORT_ERROR when the port is taken", async () => {
    const first = await serveMetrics({ registry: new Registry() });
    try {
      const port = Number(new URL(first.url).port);
      const err = await serveMetrics({ registry: new Registry(), port }).catch((e) => e);
      expect(isSnakepitError(err, "TRANSPORT_ERROR")).toBe(true);
    } finally {
      await first.close();
    }
  });
});
