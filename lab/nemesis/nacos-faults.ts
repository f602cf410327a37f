/**
 * Faults of a Nacos cluster's nodes: a member's JVM killed (SIGKILL, no goodbye: its peers notice
 * by their failing reports), stopped gracefully (SIGTERM: Spring's shutdown), started again — which
 * returns once the member answers HTTP (`labctl start nacos` waits for it, at most NACOS_START_WAIT,
 * 180 s) — and the MariaDB server stopped and started. Powering a node off or freezing it works for
 * these nodes too (faults.ts).
 */
import { labctl, registerFault } from "./faults.ts";

/** `labctl start nacos` waits up to 180 s for HTTP (images/nacos); the exec gets a little more. */
const NACOS_START_TIMEOUT_MS = 200_000;

registerFault({
  kind: "kill-nacos",
  describe: "SIGKILL the Nacos JVM of a member (no goodbye: its peers notice when their reports to it fail)",
  appliesTo: ["nacos"],
  heal: "start-nacos",
  act: ({ node }) => labctl(node, "kill", "nacos"),
});

registerFault({
  kind: "stop-nacos",
  describe: "stop a Nacos member gracefully (SIGTERM: Spring's shutdown)",
  appliesTo: ["nacos"],
  heal: "start-nacos",
  act: ({ node }) => labctl(node, "stop", "nacos", 60_000),
});

registerFault({
  kind: "start-nacos",
  describe: "start a Nacos member; done when it answers HTTP",
  appliesTo: ["nacos"],
  act: ({ node }) => labctl(node, "start", "nacos", NACOS_START_TIMEOUT_MS),
});

registerFault({
  kind: "stop-mariadb",
  describe: "stop the MariaDB server of the Nacos cluster (a clean shutdown)",
  appliesTo: ["mariadb"],
  heal: "start-mariadb",
  act: ({ node }) => labctl(node, "stop", "mariadb", 60_000),
});

registerFault({
  kind: "start-mariadb",
  describe: "start the MariaDB server of the Nacos cluster",
  appliesTo: ["mariadb"],
  act: ({ node }) => labctl(node, "start", "mariadb", 60_000),
});
