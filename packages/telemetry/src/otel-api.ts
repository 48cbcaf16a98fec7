import { createRequire } from "node:module";

/** The `@opentelemetry/api` module, when installed. */
export type OtelApi = typeof import("@opentelemetry/api");

let loaded: OtelApi | null | undefined;

/**
 * Loads the optional peer `@opentelemetry/api` once, synchronously; `null` when it is not
 * installed. The API keeps its state on `globalThis`, so this copy sees the provider an
 * application registered through its own import of the package.
 */
export function loadOtelApi(): OtelApi | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
