/**
 * `npm run bench`: the four benchmarks one after another, each printing its figures (with the load
 * average beside them) and writing bench/results/<name>.json. Not timed tests: nothing here passes
 * or fails on a number. About 40 minutes on 2 cores; each also runs alone (`node bench/<name>.ts`).
 *
 *   bringup   the default lab vs. docker-compose up of docker-compose.yml: up to the VIP, teardown
 *   timing    power-off and graceful-stop failover vs. Master_Down_Interval / Skew_Time, N ≥ 10
 *   probe     the request stream's highest sustained rate; the history's time resolution
 *   suite     the test suites' wall time; memory per node kind
 */
import { benchBringup } from "./bringup.ts";
import { say } from "./lib.ts";
import { benchProbe } from "./probe.ts";
import { benchSuite } from "./suite.ts";
import { benchTiming } from "./timing.ts";

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
if (want("bringup")) await benchBringup({ reps: 5 });
if (want("timing")) await benchTiming({ n: 12 });
if (want("probe")) await benchProbe({ seconds: 5 });
if (want("suite")) await benchSuite({ runSuite: false });
say("bench: done; results in bench/results/");
