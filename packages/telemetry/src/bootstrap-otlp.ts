import { SnakepitError } from "@snakepit/errors";
import { invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import { loadOtelApi } from "./otel-api.js";

/** Options of {@link bootstrapOtlp}. */
export interface OtlpBootstrapOptions {
  /**
   * `service.name` of the exported spans. Default: `OTEL_SERVICE_NAME` (or `service.name` in
   * `OTEL_RESOURCE_ATTRIBUTES`), else `"snakepit"`.
   */
  readonly serviceName?: string;
}

/** A started OTLP exporter. */
export interface OtlpHandle {
  /** False when `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`: nothing was started. */
  readonly enabled: boolean;
  /** Exports every finished span now. */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporter and unregisters the global tracer provider. Idempotent. */
  shutdown(): Promise<void>;
}

/** The optional peer packages the bootstrap needs, with the versions tested (Node 20 compatible). */
export const otlpPackages = {
  "@opentelemetry/api": "1.9.1",
  "@opentelemetry/sdk-trace-node": "2.12.0",
  "@opentelemetry/exporter-trace-otlp-http": "0.223.1",
  "@opentelemetry/resources": "2.12.1",
} as const;

const disabledHandle: OtlpHandle = Object.freeze({
  enabled: false,
  forceFlush: async () => {},
  shutdown: async () => {},
});

async function importOptional<T>(name: string, missing: string[]): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw err;
    missing.push(name);
    return undefined;
  }
}

/**
 * Opt-in tracing for applications with no OpenTelemetry set-up of their own: starts a
 * `NodeTracerProvider` exporting over OTLP/HTTP, registered globally (W3C propagator, async
 * context), so `startCallSpan` records and the Python workers continue the traces.
 *
 * Configured by the standard variables, read by the SDK: `OTEL_EXPORTER_OTLP_ENDPOINT` /
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (default `http://localhost:4318/v1/traces`),
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_PROPAGATORS`, `OTEL_BSP_*`.
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` returns a disabled handle.
 *
 * The SDK packages are optional peer dependencies ({@link otlpPackages}); when one is missing this
 * rejects with `INVALID_OPTIONS` naming what to install.
 */
export async function bootstrapOtlp(options: OtlpBootstrapOptions = {}): Promise<OtlpHandle> {
  if (typeof options !== "object" || options === null)
    throw invalidOption("options", "an object", options);
  rejectUnknownKeys(options, ["serviceName"]);
  const { serviceName } = options;
  if (serviceName !== undefined && (typeof serviceName !== "string" || serviceName === ""))
    throw invalidOption("serviceName", "a non-empty string", serviceName);
  if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return disabledHandle;
  if (process.env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return disabledHandle;

  const missing: string[] = [];
  if (loadOtelApi() === null) missing.push("@opentelemetry/api");
  const [node, exporter, resources] = await Promise.all([
    importOptional<typeof import("@opentelemetry/sdk-trace-node")>(
      "@opentelemetry/sdk-trace-node",
      missing,
    ),
    importOptional<typeof import("@opentelemetry/exporter-trace-otlp-http")>(
      "@opentelemetry/exporter-trace-otlp-http",
      missing,
    ),
    importOptional<typeof import("@opentelemetry/resources")>("@opentelemetry/resources", missing),
  ]);
  const api = loadOtelApi();
  if (
    missing.length > 0 ||
    node === undefined ||
    exporter === undefined ||
    resources === undefined ||
    api === null
  ) {
    const install = Object.entries(otlpPackages)
      .filter(([name]) => missing.includes(name))
      .map(([name, version]) => `${name}@${version}`)
      .join(" ");
    throw new SnakepitError(
      "INVALID_OPTIONS",
      `bootstrapOtlp() needs the optional packages ${missing.map((m) => `\`${m}\``).join(", ")}: install them with \`npm install ${install}\``,
      { details: { option: "bootstrapOtlp", missing } },
    );
  }

  // Precedence: built-in default < OTEL_* variables < the `serviceName` option.
  let resource = resources
    .defaultResource()
    .merge(
      resources.resourceFromAttributes({
        "service.name": "snakepit",
        "service.namespace": "snakepit",
      }),
    )
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  if (serviceName !== undefined)
    resource = resource.merge(resources.resourceFromAttributes({ "service.name": serviceName }));
  const provider = new node.NodeTracerProvider({
    resource,
    spanProcessors: [new node.BatchSpanProcessor(new exporter.OTLPTraceExporter())],
  });
  provider.register();

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= provider.shutdown().finally(() => {
        api.trace.disable();
        api.context.disable();
        api.propagation.disable();
      });
      return stopped;
    },
  };
}
