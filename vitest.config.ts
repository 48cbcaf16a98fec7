import { defineConfig } from "vitest/config";

// One vitest project per package; `pnpm test` runs them through turbo, `pnpm vitest` runs them all here.
export default defineConfig({ test: { projects: ["packages/*"] } });
