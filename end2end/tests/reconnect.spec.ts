// The server goes away and comes back: the client says so and reconnects
// by itself, with backoff, to the same identity.
import { test, expect, joinAs, onlineUser, send, message, uniqueName } from "./fixtures";
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
