import { describe, expect, it } from "vitest";
import { hasRedisServer } from "./local-redis.js";
import { twoHosts } from "./two-hosts.js";

const skip = process.env.REDIS_URL === undefined && !hasRedisServer();
if (skip) console.warn("SKIPPED: the two-host example: no REDIS_URL and no redis-server installed");

describe.skipIf(skip)("two-host example", () => {
  it("two host processes share one session's cart and count every visit", async () => {
    const lines: string[] = [];
    expect(await twoHosts((l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([
      'host-a adds: ["apple"]',
      'host-b adds: ["apple","pear"]',
      'host-a reads the cart: ["apple","pear"]',
      "visits counted by both hosts at once: 101 (100 + this one)",
    ]);
  });
});
