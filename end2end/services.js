// Throwaway services for what runs several nodes (end2end/tests/nodes.spec.ts,
// and bench/run.js's `nodes` scenario): Debian's PostgreSQL, Redis and
// HAProxy on free ports, each stopped by `stop()` and, should this process
// die, when its end of a pipe closes (as tests/common/postgres.rs and
// redis.rs do it). Nothing runs on the machine before or after;
// scripts/install-tools.sh installs them. Plain JavaScript, so that the
// benchmark's runner needs no TypeScript.
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function until(what, ready, seconds = 30) {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > seconds * 1000) throw new Error(`${what} did not start in ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Runs `command` under a shell that stops it (with `signal`) once our end
 * of its stdin closes; resolves to the shell and the command's pid (which
 * the shell prints first).
 */
function kept(command, asUser, signal = "INT") {
  const script = `${command} & pid=$!; echo $pid; read _ignored; kill -${signal} $pid; wait $pid`;
  const [program, args] = asUser ? ["runuser", ["-u", asUser, "--", "sh", "-c", script]] : ["sh", ["-c", script]];
  const keeper = spawn(program, args, { stdio: ["pipe", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    let out = "";
    keeper.stdout.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n");
      if (line.length > 1) {
        keeper.stdout.removeAllListeners("data");
        keeper.stdout.resume();
        resolve({ keeper, pid: Number(line[0]) });
      }
    });
    keeper.once("exit", (code) => reject(new Error(`${command} exited with ${code}`)));
  });
}

function stopped(keeper) {
  return new Promise((resolve) => {
    if (keeper.exitCode !== null || keeper.signalCode !== null) return resolve();
    keeper.once("exit", () => resolve());
    keeper.stdin.end();
  });
}

function firstExisting(paths, what) {
  const found = paths.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${what} is not installed: run scripts/install-tools.sh`);
  return found;
}

/** A PostgreSQL server (trust authentication on 127.0.0.1), at its `postgres` database. */
async function startPostgres() {
  const versions = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b)) : [];
  const bin = versions.length ? path.join("/usr/lib/postgresql", versions[versions.length - 1], "bin") : "/nonexistent";
  firstExisting([path.join(bin, "initdb")], "PostgreSQL");
  const asRoot = process.getuid && process.getuid() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtca-pg-"));
  if (asRoot) spawnSync("chown", ["-R", "postgres", dir]);
  const data = path.join(dir, "data");
  const initdb = [path.join(bin, "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-D", data];
  const made = asRoot ? spawnSync("runuser", ["-u", "postgres", "--", ...initdb]) : spawnSync(initdb[0], initdb.slice(1));
  if (made.status !== 0) throw new Error(`initdb failed: ${made.stderr}`);
  const port = await freePort();
  const { keeper, pid } = await kept(
    `${path.join(bin, "postgres")} -D ${data} -p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 > ${dir}/log 2>&1`,
    asRoot ? "postgres" : undefined,
  );
  // The port opens before the server takes queries.
  const isReady = () => spawnSync(path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"]).status === 0;
  await until("PostgreSQL", async () => (await answers(port)) && isReady());
  let databases = 0;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid,
    /** A new, empty database on this server. */
    newDatabase() {
      const name = `rtca_${process.pid}_${databases++}`;
      const made = spawnSync(path.join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name]);
      if (made.status !== 0) throw new Error(`createdb failed: ${made.stderr}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop: async () => {
      await stopped(keeper);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis that keeps nothing on disk. */
async function startRedis() {
  const program = firstExisting(["/usr/bin/redis-server", "/usr/local/bin/redis-server"], "Redis");
  const port = await freePort();
  const { keeper, pid } = await kept(`${program} --port ${port} --bind 127.0.0.1 --save '' --appendonly no > /dev/null 2>&1`);
  await until("Redis", () => answers(port));
  return { url: `redis://127.0.0.1:${port}`, pid, stop: () => stopped(keeper) };
}

/** HAProxy with deploy/haproxy.cfg, as shipped, in front of two nodes ("HOST:PORT" each). */
async function startHaproxy(node1, node2) {
  const program = firstExisting(["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"], "HAProxy");
  const port = await freePort();
  const config = path.join(root, "deploy", "haproxy.cfg");
  // Under a keeper, as the others: a test runner killed midway leaves no
  // proxy behind.
  const settings = `RTCA_PROXY_BIND=127.0.0.1:${port} RTCA_NODE1=${node1} RTCA_NODE2=${node2}`;
  // TERM: a command the shell starts in the background ignores INT.
  const { keeper, pid } = await kept(`${settings} ${program} -db -f '${config}' > /dev/null 2>&1`, undefined, "TERM");
  const url = `http://127.0.0.1:${port}`;
  await until("HAProxy", async () => (await fetch(`${url}/readyz`).catch(() => null))?.ok === true);
  return { url, pid, stop: () => stopped(keeper) };
}

module.exports = { freePort, startPostgres, startRedis, startHaproxy };
