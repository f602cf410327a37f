import { defineConfig } from "vitest/config";

// Two suites: `unit` (pure functions beside the code, seconds, no containers) and `integration`
// (test/, real containers, one file at a time so failover timings are not disturbed by each other).
// No retries anywhere: a flaky failover timing is a finding, not noise to hide.
export default defineConfig({
  test: {
    retry: 0,
    reporters: process.env.CI ? ["default", ["junit", { outputFile: "runs/junit.xml" }]] : ["default"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["lab/**/*.test.ts", "scenarios/**/*.test.ts"],
          retry: 0,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          retry: 0,
        },
      },
    ],
  },
});
