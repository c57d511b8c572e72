// The prototype's "fall back when WebSocket fails": with WebSockets blocked
// (as by a proxy), the page connects over Engine.IO long-polling by itself,
// chats both ways, keeps probing for a WebSocket, and upgrades the same
// session once one gets through.
import { test, expect, joinAs, send, message, uniqueName } from "./fixtures";

test("with WebSocket blocked the page chats over long-polling, then upgrades when it can", async ({ browser, users }) => {
  test.setTimeout(90_000);
  let blocked = true;
  let refused = 0;
  let passed = 0;
  let polls = 0;
  const polly = await joinAs(browser, uniqueName("polly"), {
    prepare: async (context) => {
      await context.routeWebSocket(/\/socket\.io\//, (ws) => {
        if (blocked) {
          refused++;
          ws.close();
        } else {
          passed++;
          ws.connectToServer();
        }
      });
      context.on("request", (request) => {
        if (request.url().includes("transport=polling")) polls++;
      });
    },
  });
  const webby = await joinAs(browser, uniqueName("webby"));
  users.push(polly, webby);
  expect(refused, "the page tried a WebSocket first").toBeGreaterThan(0);
  expect(polls, "then fell back to long-polling").toBeGreaterThan(0);
  expect(passed).toBe(0);

  const fromPolly = `over polling from ${polly.name}`;
  await send(polly.page, fromPolly);
  await expect(message(webby.page, fromPolly)).toHaveCount(1);
  const fromWebby = `over a websocket from ${webby.name}`;
  await send(webby.page, fromWebby);
  await expect(message(polly.page, fromWebby)).toHaveCount(1);

  // It keeps trying for a WebSocket while polling...
  await expect.poll(() => refused, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  // ...and moves to one once the way is clear, without reconnecting.
  blocked = false;
  await expect.poll(() => passed, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  const afterUpgrade = `after the upgrade from ${polly.name}`;
  await send(polly.page, afterUpgrade);
  await expect(message(webby.page, afterUpgrade)).toHaveCount(1);
  const pollsAfterUpgrade = polls;
  const reply = `reply after the upgrade from ${webby.name}`;
  await send(webby.page, reply);
  await expect(message(polly.page, reply)).toHaveCount(1);
  expect(polls, "no more polling once upgraded").toBe(pollsAfterUpgrade);
  await expect(polly.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  // Every message once, in order.
  const texts = await polly.page.getByTestId("messages").locator(".text").allTextContents();
  expect(texts.filter((t) => [fromPolly, fromWebby, afterUpgrade, reply].includes(t))).toEqual([fromPolly, fromWebby, afterUpgrade, reply]);
});
