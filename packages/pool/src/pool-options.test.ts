import { describe, expect, it } from "vitest";
import { resolvePoolOptions } from "./resolve-pool-options.js";

const adapter = "adapter.py:Adapter";

describe("resolvePoolOptions: a worker's capacity", () => {
  it("is a pipeline window of 32 with frames, none with gRPC (whose calls would not keep their order)", () => {
    expect(resolvePoolOptions({ adapter, transport: "frames" }).capacity).toBe(32);
    expect(resolvePoolOptions({ adapter, transport: "grpc" }).capacity).toBe(1);
    expect(resolvePoolOptions({ adapter, transport: "grpc", pipelineDepth: 3 }).capacity).toBe(3);
    expect(resolvePoolOptions({ adapter, transport: "frames", pipelineDepth: 1 }).capacity).toBe(1);
  });

  it("is threadsPerWorker with the thread profile, which takes no pipelineDepth", () => {
    expect(resolvePoolOptions({ adapter, profile: "thread", threadsPerWorker: 8 }).capacity).toBe(
      8,
    );
    expect(() => resolvePoolOptions({ adapter, profile: "thread", pipelineDepth: 2 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });

  it.each([0, 65, 1.5, Number.NaN])("pipelineDepth %s is refused", (pipelineDepth) => {
    expect(() => resolvePoolOptions({ adapter, pipelineDepth })).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTIONS",
        message: expect.stringContaining("pipelineDepth"),
      }),
    );
  });

  it("adapts the window to how quick calls are only when pipelineDepth is left to its default", () => {
    expect(resolvePoolOptions({ adapter, transport: "frames" }).adaptiveWindow).toBe(true);
    expect(
      resolvePoolOptions({ adapter, transport: "frames", pipelineDepth: 32 }).adaptiveWindow,
    ).toBe(false);
    expect(resolvePoolOptions({ adapter, transport: "grpc" }).adaptiveWindow).toBe(false);
    expect(
      resolvePoolOptions({ adapter, transport: "frames", profile: "thread" }).adaptiveWindow,
    ).toBe(false);
  });

  it("takes windows up to 64 with frames, up to 4 with gRPC (what its worker admits)", () => {
    expect(resolvePoolOptions({ adapter, transport: "frames", pipelineDepth: 64 }).capacity).toBe(
      64,
    );
    expect(resolvePoolOptions({ adapter, transport: "grpc", pipelineDepth: 4 }).capacity).toBe(4);
    expect(() => resolvePoolOptions({ adapter, transport: "grpc", pipelineDepth: 5 })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("from 1 to 4") }),
    );
  });
});

describe("resolvePoolOptions: transport and start mode", () => {
  it("take the option, else the environment variable, else the default, and name the source of a bad value", () => {
    const saved = [process.env.SNAKEPIT_TRANSPORT, process.env.SNAKEPIT_START_MODE] as const;
    const restore = (name: string, value: string | undefined) => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };
    try {
      delete process.env.SNAKEPIT_TRANSPORT;
      delete process.env.SNAKEPIT_START_MODE;
      expect(resolvePoolOptions({ adapter })).toMatchObject({
        transport: "frames",
        startMode: "spawn",
      });
      process.env.SNAKEPIT_TRANSPORT = "grpc";
      process.env.SNAKEPIT_START_MODE = "fork";
      expect(resolvePoolOptions({ adapter })).toMatchObject({
        transport: "grpc",
        startMode: "fork",
      });
      expect(
        resolvePoolOptions({ adapter, transport: "frames", startMode: "spawn" }),
      ).toMatchObject({ transport: "frames", startMode: "spawn" });
      expect(() => resolvePoolOptions({ adapter, transport: "http" as never })).toThrow(
        expect.objectContaining({
          code: "INVALID_OPTIONS",
          message: expect.stringMatching(/transport.*`"frames"` or `"grpc"`/s),
        }),
      );
      process.env.SNAKEPIT_START_MODE = "vfork";
      expect(() => resolvePoolOptions({ adapter })).toThrow(
        expect.objectContaining({
          code: "INVALID_OPTIONS",
          message: expect.stringMatching(/SNAKEPIT_START_MODE.*`"spawn"` or `"fork"`/s),
        }),
      );
    } finally {
      restore("SNAKEPIT_TRANSPORT", saved[0]);
      restore("SNAKEPIT_START_MODE", saved[1]);
    }
  });
});
