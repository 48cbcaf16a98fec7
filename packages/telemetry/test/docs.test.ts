import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { eventNames, metricDefinitions } from "../src/index.js";

const doc = readFileSync(new URL("../../../docs/telemetry.md", import.meta.url), "utf8");
const dashboard = readFileSync(
  new URL("../../../docs/grafana-dashboard.json", import.meta.url),
  "utf8",
);
const metricNames = Object.values(metricDefinitions).map((m) => `snakepit_${m.name}`);

describe("docs stay in step with the catalogue", () => {
  it.each(eventNames)("docs/telemetry.md documents %s", (name) => {
    expect(doc).toContain(`\`${name}\``);
  });

  it.each(metricNames)("docs/telemetry.md documents %s", (name) => {
    expect(doc).toContain(`\`${name}\``);
  });

  it("the Grafana dashboard queries only defined metrics", () => {
    JSON.parse(dashboard);
    const used = new Set(dashboard.match(/snakepit_[a-z_]+/g));
    const known = new Set(metricNames.flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]));
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
    expect(used.size).toBeGreaterThan(10);
  });
});
