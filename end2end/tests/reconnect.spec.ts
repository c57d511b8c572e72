// The server goes away and comes back: the client says so and reconnects
// by itself, with backoff, to the same identity.
import { test, expect, joinAs, onlineUser, send, message, uniqueName } from "./fixtures";
import { io } from "socket.io-client";
import { startServer } from "../server";

test("the client shows the outage and reconnects when the server returns", async ({ browser, users }) => {
  const server = await startServer();
  try {
    const alice = await joinAs(browser, uniqueName("alice"), { url: server.url });
    users.push(alice);
    const status = alice.page.getByTestId("connection-status");

    await server.stop("SIGKILL");
    await expect(status).toHaveAttribute("data-state", "reconnecting");
    await expect(status).toContainText("Reconnecting");

    const again = await startServer({ port: server.port, dbPath: server.dbPath });
    try {
      await expect(status).toHaveAttribute("data-state", "connected", { timeout: 20_000 });
      await expect(onlineUser(alice.page, alice.name)).toBeVisible();
      const text = `after the outage ${alice.name}`;
      await send(alice.page, text);
      await expect(message(alice.page, text)).toBeVisible();
      // Close the page before the server goes, so it stops reconnecting.
      await alice.context.close();
    } finally {
      await again.stop();
    }
    // The browser logs failed WebSocket attempts while the server is down;
    // those are expected here and nothing else is.
    alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/WebSocket connection to .* failed/.test(e)));
  } finally {
    await server.stop();
  }
});

test("a server that returns with a fresh database: the page starts over instead of mixing histories", async ({ browser, users }) => {
  const server = await startServer();
  try {
    const alice = await joinAs(browser, uniqueName("alice"), { url: server.url });
    users.push(alice);
    const old = [`old world 1 ${alice.name}`, `old world 2 ${alice.name}`];
    for (const text of old) {
      await send(alice.page, text);
      await expect(message(alice.page, text)).toHaveCount(1);
    }
    const status = alice.page.getByTestId("connection-status");
    await server.stop("SIGKILL");
    await expect(status).toHaveAttribute("data-state", "reconnecting");

    // Same address, new database: its seq and ids start again at 1.
    const fresh = await startServer({ port: server.port });
    try {
      const writer = io(fresh.url, { transports: ["websocket"], forceNew: true });
      await writer.emitWithAck("online", { name: uniqueName("newcomer") });
      const text = "new world 1";
      await writer.emitWithAck("message", { text });
      writer.disconnect();

      await expect(status).toHaveAttribute("data-state", "connected", { timeout: 20_000 });
      await expect(message(alice.page, text)).toHaveCount(1);
      for (const gone of old) await expect(message(alice.page, gone)).toHaveCount(0);
      // The old session means nothing to the new database.
      await expect(alice.page.getByLabel("Pick a name to join the chat")).toBeVisible();
      await alice.context.close();
    } finally {
      await fresh.stop();
    }
    alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/WebSocket connection to .* failed/.test(e)));
  } finally {
    await server.stop();
  }
});
