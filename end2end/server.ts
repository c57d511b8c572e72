// Starts the real RTCA server binary on an ephemeral (or given) port with
// its own SQLite file, and waits until it listens.
import { spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");

export interface RunningServer {
  url: string;
  port: number;
  dbPath: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServer(options: { port?: number; dbPath?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<RunningServer> {
  const bin = process.env.RTCA_BIN ?? path.join(root, "target", "debug", "rtca");
  if (!fs.existsSync(bin)) throw new Error(`no server binary at ${bin}: run \`cargo leptos build\` first`);
  const dbPath = options.dbPath ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rtca-e2e-")), "e2e.db");
  const child = spawn(bin, [], {
    cwd: options.cwd ?? root,
    env: {
      ...process.env,
      RTCA_ADDR: `127.0.0.1:${options.port ?? 0}`,
      RTCA_DATABASE_URL: `sqlite://${dbPath}`,
      RTCA_MEDIA_DIR: path.join(path.dirname(dbPath), "media"),
      LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
      RUST_LOG: process.env.RUST_LOG ?? "info",
      NO_COLOR: "1",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  // Keep draining the pipes so the server never blocks on a full one.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    process: child,
    stop: (signal: NodeJS.Signals = "SIGTERM") =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
  };
}
