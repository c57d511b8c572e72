#!/usr/bin/env node
// Runs every scenario against RTCA and then against the reference peer
// (Node + socket.io, bench/peer) on this machine, one after the other, with
// the same generator (bench/src), and prints the ratio for each. Noisy
// machines: compare within one run, and quote medians of several.
//
//   node bench/run.js [--smoke] [--runs N] [--only fanout-40,join-storm,...] [--floor]
//
// --floor adds a third server, plain socketioxide with the same contract and
// nothing else (bench/src/bin/floor.rs): the part of RTCA's cost that is
// socketioxide's own.
//
// The `nodes-40` scenario runs RTCA alone: fanout-40 against one node and
// against two nodes joined by Redis, both on one throwaway PostgreSQL
// (end2end/services.js), clients spread over the nodes; CPU counts both
// nodes and Redis (#18's figures).
//
// Raw results go to bench/results/, with RTCA's server log for any run of
// it that lost something or never finished.
//
// --smoke runs tiny versions of each scenario and fails unless messages
// flow without loss and every client sees every other online. It never
// judges timings. Needs: target/release/rtca (make build),
// bench/target/release/rtca-bench, and bench/peer/node_modules.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const services = require("../end2end/services.js");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const runs = Number(valueOf("--runs") ?? (smoke ? 1 : 3));
const only = valueOf("--only")?.split(",");
const withFloor = args.includes("--floor");
const rtcaBin = process.env.RTCA_BIN ?? path.join(root, "target", "release", "rtca");
const generator = path.join(root, "bench", "target", "release", "rtca-bench");
const floorBin = path.join(root, "bench", "target", "release", "rtca-floor");

function valueOf(flag) {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

// The scenarios: generator arguments, full size and smoke size.
const scenarios = [
  { name: "fanout-40", full: "--scenario fanout --clients 1000 --senders 10 --rate 40 --duration 10", smoke: "--scenario fanout --clients 20 --senders 2 --rate 10 --duration 2" },
  { name: "fanout-150", full: "--scenario fanout --clients 1000 --senders 30 --rate 150 --duration 10", smoke: "--scenario fanout --clients 20 --senders 4 --rate 20 --duration 2" },
  // The storm takes two generator threads: with one, the generator (parsing
  // everyone's presence) is the limit, at about 90% of its core.
  { name: "join-storm", full: "--scenario join-storm --clients 5000 --threads 2", smoke: "--scenario join-storm --clients 20" },
  // All 2 000 connect at once, as in a storm; memory is read once they are
  // all online and settled.
  { name: "idle", full: "--scenario idle --clients 2000 --connect-concurrency 2000", smoke: "--scenario idle --clients 20" },
  { name: "rooms", full: "--scenario fanout --clients 1000 --room-size 25 --senders 200 --rate 1000 --duration 10", smoke: "--scenario fanout --clients 20 --room-size 5 --senders 8 --rate 20 --duration 2" },
  // Each writer alone in a room of its own: the store's throughput, not the fan-out's.
  { name: "durable", full: "--scenario durable --senders 50 --clients 50 --room-size 1 --duration 10", smoke: "--scenario durable --senders 5 --clients 5 --room-size 1 --duration 2" },
  // RTCA only: the peer renders no pages.
  { name: "page", rtcaOnly: true, full: "--scenario page --messages 50 --requests 300", smoke: "--scenario page --messages 50 --requests 10" },
  // RTCA only: typing and reactions, which the peer does not have. Fifty
  // typists and 100 reactions a second among 1 000 in one room.
  // RTCA only: the peer has no search. A million messages, then two-word
  // searches one after another (#20's figure).
  { name: "search", rtcaOnly: true, full: "--scenario search --clients 50 --senders 50 --room-size 1 --messages 1000000 --requests 300", smoke: "--scenario search --clients 4 --senders 4 --room-size 1 --messages 400 --requests 10" },
  { name: "chatter", rtcaOnly: true, full: "--scenario chatter --clients 1000 --senders 50 --rate 100 --duration 10", smoke: "--scenario chatter --clients 20 --senders 4 --rate 10 --duration 2" },
  // One node against two joined by Redis, both on PostgreSQL: the same
  // clients (spread over the nodes) and load as fanout-40.
  { name: "nodes-40", nodes: true, full: "--scenario fanout --clients 1000 --senders 10 --rate 40 --duration 10", smoke: "--scenario fanout --clients 20 --senders 2 --rate 10 --duration 2" },
  // Only with --only ramp: it takes as long as all the others together.
  { name: "ramp", optional: true, full: "--scenario ramp --clients 1000 --senders 30 --rates 40,80,150,300 --duration 5", smoke: "--scenario ramp --clients 10 --senders 2 --rates 5,10 --duration 1" },
].filter((s) => (only ? only.includes(s.name) : !s.optional));

// One machine plays thousands of users from one address: RTCA's per-address
// and per-connection limits would (rightly) refuse that, so they are
// raised for the benchmark. Nothing else changes.
const rtcaEnv = {
  RTCA_MAX_CONNECTIONS_PER_ADDRESS: "1000000",
  RTCA_MAX_CONNECTIONS_PER_USER: "1000000",
  RTCA_RATE_JOIN_ADDRESS: "1000000:1000000",
  RTCA_RATE_HANDSHAKE_ADDRESS: "1000000:1000000",
  RTCA_MAX_HTTP_CONNECTIONS_PER_ADDRESS: "1000000",
  RTCA_MAX_HTTP_CONNECTIONS: "1000000",
  RTCA_RATE_READ_BYTES_ADDRESS: "1000000000:4000000000",
  RTCA_RATE_READ_BYTES_ALL: "1000000000:4000000000",
  RTCA_RATE_JOIN_CONNECTION: "1000:1000",
  RTCA_RATE_SEND_CONNECTION: "100000:100000",
  RTCA_RATE_SEND_USER: "100000:100000",
  // The search scenario's reader asks hundreds of times in a row.
  RTCA_RATE_READ: "100000:100000",
  // Each durable writer opens a room of its own, 50 from one address.
  RTCA_RATE_PUBLIC_ROOMS: "1000000:1000000",
  RTCA_SOCKET_BUFFER: "1024",
  RUST_LOG: "warn,rtca::server::http=info",
};

// RTCA_BENCH_POSTGRES=postgres://USER@HOST:PORT runs RTCA on PostgreSQL
// instead of SQLite: a new database on that server for every run (made
// with psql), as a new SQLite file is.
const postgresBase = process.env.RTCA_BENCH_POSTGRES;
let postgresDatabases = 0;
function databaseUrl(dir) {
  if (!postgresBase) return `sqlite://${path.join(dir, "bench.db")}`;
  const name = `rtca_bench_${process.pid}_${postgresDatabases++}`;
  execFileSync("psql", [`${postgresBase}/postgres`, "-qc", `CREATE DATABASE ${name}`]);
  return `${postgresBase}/${name}`;
}

// The throwaway PostgreSQL and Redis of the `nodes` scenarios, started
// on first use and stopped at the end.
let cluster;
async function clusterServices() {
  cluster ??= { postgres: await services.startPostgres(), redis: await services.startRedis() };
  return cluster;
}

// `count` RTCA nodes on one new PostgreSQL database, joined by Redis when
// there are several: their URLs and pids (Redis's too) as the generator
// takes them, comma-separated.
async function startNodes(count) {
  const { postgres, redis } = await clusterServices();
  const database = postgres.newDatabase();
  const env = { RTCA_DATABASE_URL: database, ...(count > 1 ? { RTCA_REDIS_URL: redis.url } : {}) };
  const media = fs.mkdtempSync(path.join(os.tmpdir(), "rtca-bench-media-"));
  const nodes = [];
  try {
    for (let n = 0; n < count; n++) nodes.push(await start("rtca", { ...env, RTCA_MEDIA_DIR: media }));
    // Subscribed to Redis (ready) before anyone connects.
    for (const node of nodes) {
      const started = Date.now();
      while ((await fetch(`${node.url}/readyz`).then((r) => r.status).catch(() => 0)) !== 200) {
        if (Date.now() - started > 10_000) throw new Error(`${node.url} never got ready`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    // Those already started go too, or they would keep this process alive.
    for (const node of nodes) await stop(node);
    throw error;
  }
  const pids = [...nodes.map((node) => node.child.pid), ...(count > 1 ? [redis.pid] : [])];
  return { url: nodes.map((node) => node.url).join(","), pids: pids.join(","), nodes, media };
}

function start(side, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rtca-bench-${side}-`));
  const child =
    side === "floor"
      ? spawn(floorBin, [], { cwd: root, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] })
      : side === "rtca"
      ? spawn(rtcaBin, [], {
          cwd: root,
          env: {
            ...process.env,
            ...rtcaEnv,
            RTCA_ADDR: "127.0.0.1:0",
            RTCA_DATABASE_URL: env.RTCA_DATABASE_URL ?? databaseUrl(dir),
            RTCA_MEDIA_DIR: path.join(dir, "media"),
            LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
            NO_COLOR: "1",
            ...env,
          },
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, [path.join(root, "bench", "peer", "server.js")], {
          cwd: path.join(root, "bench", "peer"),
          env: { ...process.env, PORT: "0" },
          stdio: ["ignore", "pipe", "pipe"],
        });
  // "close", not "exit", ends a server's run: a process can exit while its last
  // output is still in the pipes, and writing that to an ended log throws
  // (CI, stop 13). Made here so that a server that died early is seen too.
  const closed = new Promise((resolve) => child.on("close", resolve));
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${side} did not start:\n${output}`));
    }, 30_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        // Kept only when a run of RTCA's goes wrong (see `stop`).
        const log = fs.createWriteStream(path.join(dir, "server.log"));
        log.write(output);
        child.stdout.pipe(log, { end: false });
        child.stderr.pipe(log, { end: false });
        resolve({ url: match[1], child, dir, log, closed });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${side} exited with ${code}:\n${output}`));
    });
  });
}

// `keepLogAs` names the copy of the server's log to keep in bench/results.
async function stop(server, keepLogAs) {
  server.child.removeAllListeners("exit");
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
  await server.closed;
  clearTimeout(timer);
  server.child.stdout.unpipe(server.log);
  server.child.stderr.unpipe(server.log);
  await new Promise((resolve) => server.log.end(resolve));
  if (keepLogAs) {
    const out = path.join(root, "bench", "results");
    fs.mkdirSync(out, { recursive: true });
    const kept = path.join(out, `${keepLogAs}.log`);
    fs.copyFileSync(path.join(server.dir, "server.log"), kept);
    console.log(`    server log kept: ${path.relative(root, kept)}`);
  }
  fs.rmSync(server.dir, { recursive: true, force: true });
}

// A run that lost something or never finished: worth its server log.
function wentWrong(result) {
  const unfinished = result.scenario === "join-storm" && result.consistent !== result.clients;
  return unfinished || result.lost > 0 || result.abandoned_clients > 0;
}

// Asynchronous on purpose: while it runs, this process must keep reading the
// server's output into its log. With `spawnSync` nothing read it, and a server
// that logged more than its stdout's buffer holds blocked in its next write:
// the join storm that "never finished" in finding 25's set was RTCA's
// runtime stuck writing warnings about its own slow database pool.
function runGenerator(url, pid, argLine) {
  const argv = [...argLine.split(" "), "--url", url, "--server-pid", String(pid)];
  return new Promise((resolve, reject) => {
    const child = spawn(generator, argv, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    let stdout = "";
    let stderr = "";
    const limit = 64 * 1024 * 1024;
    child.stdout.on("data", (chunk) => {
      if (stdout.length < limit) stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      if (stderr.length < limit) stderr += chunk;
    });
    // A generator that hangs fails the run instead of the CI job's clock.
    const timer = setTimeout(() => child.kill("SIGKILL"), smoke ? 120_000 : 900_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      process.stdout.write(stdout.split("\n").filter((l) => !l.startsWith("RESULT ")).map((l) => (l ? `    ${l}\n` : "")).join(""));
      if (status !== 0) return reject(new Error(`generator failed (${status ?? signal}): ${stderr}`));
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) return reject(new Error(`generator printed no RESULT line: ${stderr}`));
      resolve(JSON.parse(line.slice("RESULT ".length)));
    });
  });
}

// A run that never got there counts as the worst (Infinity, or -Infinity
// where higher is better), so a failed run moves the median instead of
// vanishing from it.
const median = (values) => {
  const sorted = values.filter((v) => typeof v === "number" && !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : NaN;
};

// The figures compared per scenario, and whether lower is better.
const figures = {
  fanout: [
    ["server µs/delivery", (r) => r.server?.cpu_us_per_delivery, true],
    ["server CPU %", (r) => (r.server?.cpu_share ?? NaN) * 100, true],
    ["p50 ms", (r) => r.latency_ms.p50, true],
    ["p99 ms", (r) => r.latency_ms.p99, true],
    ["lost", (r) => r.lost, true],
  ],
  get rooms() {
    return this.fanout;
  },
  // Where the latency goes across nodes: the commit (send to ack), and
  // deliveries within one node against those that crossed through Redis.
  get nodes() {
    return [
      ...this.fanout,
      ["ack p99 ms", (r) => r.ack_ms?.p99 ?? NaN, true],
      ["same-node p99 ms", (r) => r.same_node_latency_ms?.p99 ?? NaN, true],
      ["crossed p99 ms", (r) => r.other_node_latency_ms?.p99 ?? NaN, true],
    ];
  },
  "join-storm": [["all online s", (r) => r.all_online_s ?? Infinity, true], ["consistent", (r) => r.consistent, false]],
  idle: [["KiB/connection", (r) => r.kib_per_connection, true]],
  page: [
    ["render p50 ms", (r) => r.page_ms.p50, true],
    ["render p99 ms", (r) => r.page_ms.p99, true],
    ["server CPU ms/page", (r) => r.server_cpu_ms_per_page, true],
  ],
  durable: [
    ["acked msg/s", (r) => r.acked_per_s, false],
    ["p99 ms", (r) => r.latency_ms.p99, true],
    ["server µs/message", (r) => r.server?.cpu_us_per_delivery, true],
  ],
  search: [
    ["search p50 ms", (r) => r.search_ms.p50, true],
    ["search p99 ms", (r) => r.search_ms.p99, true],
    ["fill msg/s", (r) => r.fill_per_s, false],
  ],
  chatter: [
    ["typing frames/socket/s", (r) => r.typing_frames_per_socket_s, true],
    ["message_changed frames/socket/s", (r) => r.changed_frames_per_socket_s, true],
    ["server CPU cores", (r) => r.server_cpu_cores, true],
  ],
  ramp: [0, 1, 2, 3].flatMap((step) => [
    [`step ${step + 1} p99 ms`, (r) => r.steps[step]?.latency_ms.p99, true],
    [`step ${step + 1} µs/delivery`, (r) => r.steps[step]?.server?.cpu_us_per_delivery, true],
  ]),
};

// One run of the generator for `scenario` against `url` (CPU summed over
// `pids`): its result, checked in a smoke run. `ran.wrong` says whether
// to keep the servers' logs. The smoke run exists to fail on an error; a
// full set goes on (one server failing one run, plain socketioxide
// dropping acks in a storm, say, must not throw away the rest), and the
// failed run counts as the worst in the medians.
async function runOnce(label, url, pids, scenario, ran) {
  const argLine = smoke ? scenario.smoke : scenario.full;
  let result;
  try {
    result = await runGenerator(url, pids, argLine);
  } catch (error) {
    if (smoke) throw error;
    console.log(`    run failed: ${String(error.message).split("\n")[0]}`);
    result = { scenario: argLine.match(/--scenario (\S+)/)?.[1], failed: String(error.message) };
  }
  ran.wrong = result.failed !== undefined || wentWrong(result);
  if (smoke) check(label, result);
  return result;
}

function check(name, result) {
  if (["fanout", "rooms", "durable"].includes(result.scenario)) {
    if (!(result.acked > 0)) throw new Error(`${name}: no message was acknowledged`);
    if (result.abandoned_clients > 0) throw new Error(`${name}: ${result.abandoned_clients} clients failed or had to be stopped`);
    if (result.received_deliveries !== result.expected_deliveries) {
      throw new Error(`${name}: ${result.received_deliveries} of ${result.expected_deliveries} deliveries arrived`);
    }
  }
  if (result.scenario === "page" && result.complete !== result.requests) {
    throw new Error(`${name}: ${result.complete} of ${result.requests} pages were complete`);
  }
  // Typing reaches everyone, coalesced: at most about one frame a second.
  if (result.scenario === "chatter" && !(result.typing_frames_per_socket_s > 0 && result.typing_frames_per_socket_s < 2)) {
    throw new Error(`${name}: ${result.typing_frames_per_socket_s} typing frames per socket per second`);
  }
  if (result.scenario === "chatter" && !(result.changed_frames_per_socket_s > 0)) {
    throw new Error(`${name}: no reaction reached the sockets`);
  }
  if (result.scenario === "join-storm" && result.consistent !== result.clients) {
    throw new Error(`${name}: only ${result.consistent} of ${result.clients} clients saw everyone online`);
  }
}

async function main() {
  const needs = [rtcaBin, generator, path.join(root, "bench", "peer", "node_modules", "socket.io"), ...(withFloor ? [floorBin] : [])];
  for (const needed of needs) {
    if (!fs.existsSync(needed)) throw new Error(`missing ${needed}: run \`make bench\` (or \`make bench-smoke\`)`);
  }
  const all = {};
  const nodeRuns = {};
  for (const scenario of scenarios.filter((s) => s.nodes)) {
    nodeRuns[scenario.name] = { one: [], two: [] };
    for (let run = 1; run <= runs; run++) {
      for (const [side, count] of [["one", 1], ["two", 2]]) {
        console.log(`${scenario.name} · run ${run}/${runs} · ${side} node${count > 1 ? "s" : ""}`);
        const started = await startNodes(count);
        const ran = { wrong: true };
        try {
          const result = await runOnce(`${scenario.name} (${side})`, started.url, started.pids, scenario, ran);
          nodeRuns[scenario.name][side].push(result);
        } finally {
          const stamp = new Date().toISOString().replace(/[:.]/g, "-");
          for (const [n, node] of started.nodes.entries()) await stop(node, ran.wrong ? `${scenario.name}-run${run}-${side}-node${n + 1}-${stamp}` : undefined);
          fs.rmSync(started.media, { recursive: true, force: true });
        }
      }
    }
  }
  for (const scenario of scenarios.filter((s) => !s.nodes)) {
    all[scenario.name] = { rtca: [], peer: [], floor: [] };
    for (let run = 1; run <= runs; run++) {
      for (const side of scenario.rtcaOnly ? ["rtca"] : ["rtca", "peer", ...(withFloor ? ["floor"] : [])]) {
        console.log(`${scenario.name} · run ${run}/${runs} · ${side}`);
        const server = await start(side);
        // RTCA's log is kept when its run goes wrong; the others never
        // finish a join storm, so theirs would only be noise.
        const ran = { wrong: true };
        try {
          const result = await runOnce(`${scenario.name} (${side})`, server.url, server.child.pid, scenario, ran);
          all[scenario.name][side].push(result);
        } finally {
          await stop(server, side === "rtca" && ran.wrong ? `${scenario.name}-run${run}-${new Date().toISOString().replace(/[:.]/g, "-")}` : undefined);
        }
      }
    }
  }
  console.log(`\n${smoke ? "Smoke run" : `Medians of ${runs} runs`} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}):`);
  const floorColumns = withFloor ? [" plain socketioxide | RTCA / floor |", "---|---|"] : ["", ""];
  console.log(`| scenario | figure | RTCA | Node + socket.io | RTCA / peer |${floorColumns[0]}\n|---|---|---|---|---|${floorColumns[1]}`);
  const ratio = (ours, theirs) => {
    const value = theirs && Number.isFinite(theirs) && Number.isFinite(ours) ? ours / theirs : NaN;
    return Number.isFinite(value) ? value.toFixed(2) : "–";
  };
  for (const [name, sides] of Object.entries(all)) {
    const kind = sides.rtca[0]?.scenario;
    for (const [label, figure, lowerIsBetter] of figures[kind] ?? []) {
      // A failed run counts as the worst value of each figure.
      const pick = (r) => (r.failed === undefined ? figure(r) : lowerIsBetter ? Infinity : -Infinity);
      const ours = median(sides.rtca.map(pick));
      const theirs = median(sides.peer.map(pick));
      const floor = median(sides.floor.map(pick));
      const floorCells = withFloor ? ` ${fmt(floor)} | ${ratio(ours, floor)} |` : "";
      console.log(`| ${name} | ${label} | ${fmt(ours)} | ${fmt(theirs)} | ${ratio(ours, theirs)} |${floorCells}`);
    }
  }
  for (const [name, sides] of Object.entries(nodeRuns)) {
    console.log(`\n| ${name} | one node (PostgreSQL) | two nodes (PostgreSQL, Redis) | two / one |\n|---|---|---|---|`);
    for (const [label, figure, lowerIsBetter] of figures.nodes) {
      const pick = (r) => (r.failed === undefined ? figure(r) : lowerIsBetter ? Infinity : -Infinity);
      const [one, two] = [median(sides.one.map(pick)), median(sides.two.map(pick))];
      console.log(`| ${label} | ${fmt(one)} | ${fmt(two)} | ${ratio(two, one)} |`);
    }
  }
  const out = path.join(root, "bench", "results");
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, smoke ? "smoke.json" : `run-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ smoke, runs, cores: os.cpus().length, results: all, nodes: nodeRuns }, null, 2));
  console.log(`\nall results: ${path.relative(root, file)}`);
}

function fmt(value) {
  if (value === Infinity) return "never";
  if (value === -Infinity) return "failed";
  if (!Number.isFinite(value)) return "–";
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

main()
  .catch((error) => {
    console.error(error.message ?? error);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (cluster) {
      await cluster.redis.stop();
      await cluster.postgres.stop();
    }
    // Nothing left running may keep a failed run from ending.
    process.exit(process.exitCode ?? 0);
  });
