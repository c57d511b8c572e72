// One binary that carries its site: a release build of `rtca` serves the
// WASM bundle, its JavaScript, the stylesheet and the public files from
// inside itself, precompressed, so it runs from a folder with nothing
// beside it (no target/site), and the chat hydrates and works.
import { test, expect, joinAs, send, message, uniqueName } from "./fixtures";
import { startServer } from "../server";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

test("a release binary serves its own site from an empty folder", async ({ browser, users }) => {
  // Development builds read the site from disk; CI runs the release build.
  test.skip(!(process.env.RTCA_BIN ?? "").includes("/release/"), "only a release build carries its site");
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "rtca-anywhere-"));
  const server = await startServer({ cwd: empty, env: { LEPTOS_SITE_ROOT: path.join(empty, "no-site-here"), RTCA_SITE_ROOT: path.join(empty, "no-site-here") } });
  try {
    const wasm = await fetch(`${server.url}/pkg/rtca.wasm`, { headers: { "accept-encoding": "br, gzip" } });
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get("content-type")).toBe("application/wasm");
    expect(wasm.headers.get("content-encoding")).toBe("br");
    const etag = wasm.headers.get("etag");
    expect(etag).toBeTruthy();
    await wasm.arrayBuffer();
    const again = await fetch(`${server.url}/pkg/rtca.wasm`, { headers: { "accept-encoding": "br, gzip", "if-none-match": etag! } });
    expect(again.status).toBe(304);
    const gzipOnly = await fetch(`${server.url}/pkg/rtca.css`, { headers: { "accept-encoding": "gzip" } });
    expect(gzipOnly.headers.get("content-encoding")).toBe("gzip");
    expect(gzipOnly.headers.get("content-type")).toContain("text/css");
    const worker = await fetch(`${server.url}/sw.js`);
    expect(worker.status).toBe(200);
    expect(worker.headers.get("content-type")).toContain("text/javascript");
    // Not a file: the app's own not-found page.
    expect((await fetch(`${server.url}/pkg/nothing.js`)).status).toBe(404);

    const alice = await joinAs(browser, uniqueName("alice"), { url: server.url });
    users.push(alice);
    await send(alice.page, "served from inside the binary");
    await expect(message(alice.page, "served from inside the binary")).toBeVisible();
  } finally {
    await server.stop();
  }
});
