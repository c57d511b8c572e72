// Nothing is lost across a dropped connection: the client resumes each
// conversation from the last `seq` it saw, and older history pages in on
// demand.
import { io } from "socket.io-client";
import { test, expect, joinAs, send, message, onlineUser, uniqueName } from "./fixtures";
import { startServer } from "../server";

test("messages sent while a user was offline arrive when they are back", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const status = bob.page.getByTestId("connection-status");

  await bob.context.setOffline(true);
  await expect(status).toHaveAttribute("data-state", "offline");
  const missed = [`while you were away 1 ${bob.name}`, `while you were away 2 ${bob.name}`];
  for (const text of missed) {
    await send(alice.page, text);
    await expect(message(alice.page, text)).toBeVisible();
  }
  await expect(message(bob.page, missed[0])).toHaveCount(0);

  await bob.context.setOffline(false);
  await expect(status).toHaveAttribute("data-state", "connected");
  for (const text of missed) {
    await expect(message(bob.page, text)).toHaveCount(1);
  }
  // In order, after what bob had already seen.
  const texts = await bob.page.getByTestId("messages").locator(".text").allTextContents();
  expect(texts.slice(-2)).toEqual(missed);
  // Going offline is not an error the page should log.
  bob.errors.splice(0, bob.errors.length, ...bob.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(e)));
});

test("messages typed offline wait as pending and arrive once, in order, back online", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  await alice.context.setOffline(true);
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "offline");

  const texts = [1, 2, 3].map((n) => `typed offline ${n} ${alice.name}`);
  for (const text of texts) await send(alice.page, text);
  const pending = alice.page.getByTestId("pending");
  await expect(pending).toHaveCount(3);
  await expect(pending.first()).toContainText("Sending…");
  await expect(alice.page.getByTestId("composer")).toHaveValue("");
  await expect(message(bob.page, texts[0])).toHaveCount(0);

  await alice.context.setOffline(false);
  await expect(pending).toHaveCount(0, { timeout: 20_000 });
  for (const user of [alice, bob]) {
    for (const text of texts) await expect(message(user.page, text)).toHaveCount(1);
    const shown = await user.page.getByTestId("messages").locator(".text").allTextContents();
    expect(shown.filter((t) => t.startsWith("typed offline"))).toEqual(texts);
  }
  alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(e)));
});

test("older history loads on demand, page by page", async ({ browser, users }) => {
  // The writer below posts 60 messages as fast as it can: more than the
  // default rate limit lets one connection send in a burst.
  const server = await startServer({ env: { RTCA_RATE_SEND_CONNECTION: "1000:1000", RTCA_RATE_SEND_USER: "1000:1000" } });
  try {
    // 60 messages: more than the first page (50) holds.
    const writer = io(server.url, { transports: ["websocket"], forceNew: true });
    await writer.emitWithAck("online", { name: "historian" });
    for (let i = 1; i <= 60; i++) {
      const ack = await writer.emitWithAck("message", { text: `entry ${i}.` });
      expect(ack.ok, JSON.stringify(ack)).toBe(true);
    }
    writer.disconnect();

    const reader = await joinAs(browser, uniqueName("reader"), { url: server.url });
    users.push(reader);
    await expect(message(reader.page, "entry 60.")).toBeVisible();
    await expect(message(reader.page, "entry 11.")).toHaveCount(1);
    await expect(message(reader.page, "entry 10.")).toHaveCount(0);
    await reader.page.getByRole("button", { name: "Load earlier messages" }).click();
    await expect(message(reader.page, "entry 1.")).toHaveCount(1);
    await expect(reader.page.getByRole("button", { name: "Load earlier messages" })).toHaveCount(0);
    const texts = await reader.page.getByTestId("messages").locator(".text").allTextContents();
    expect(texts.slice(0, 3)).toEqual(["entry 1.", "entry 2.", "entry 3."]);
    expect(texts).toHaveLength(60);
    await reader.context.close();
  } finally {
    await server.stop();
  }
});

test("a private conversation a stranger started while I was away shows up when I am back", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const carol = await joinAs(browser, uniqueName("carol"));
  users.push(alice, carol);
  const status = alice.page.getByTestId("connection-status");
  // Carol has never talked to alice; she writes while alice is away.
  await carol.page.getByTestId("online-users").locator("button.person", { hasText: alice.name }).click();
  await alice.context.setOffline(true);
  await expect(status).toHaveAttribute("data-state", "offline");
  const text = `we have not met, ${alice.name}`;
  await send(carol.page, text);
  await expect(message(carol.page, text)).toHaveCount(1);

  await alice.context.setOffline(false);
  await expect(status).toHaveAttribute("data-state", "connected");
  const carolRow = alice.page.getByTestId("private-conversations").locator("button.person", { hasText: carol.name });
  await expect(carolRow.locator(".badge")).toHaveText("1");
  await carolRow.click();
  await expect(message(alice.page, text)).toHaveCount(1);

  // The conversation is listed from the server, so it survives a reload
  // even when carol is gone.
  await carol.context.close();
  await alice.page.reload();
  await expect(alice.page.locator("button.person.offline", { hasText: carol.name })).toBeVisible();
  alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(e)));
});

test("a message lost on a live connection is fetched as soon as the next one shows the gap", async ({ browser, users }) => {
  // The server drops packets for a socket whose queue is full rather than
  // wait for it. Here bob's browser loses exactly one room message and one
  // private message on the way in, as a stalled tab would, while its
  // connection stays up.
  const lost = [`lost in the lobby ${uniqueName("")}`, `lost in private ${uniqueName("")}`];
  const dropped: string[] = [];
  const bob = await joinAs(browser, uniqueName("bob"), {
    prepare: async (context) => {
      await context.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          const text = lost.find((t) => typeof frame === "string" && frame.startsWith("42") && frame.includes(t));
          if (text && !dropped.includes(text)) {
            dropped.push(text);
            return;
          }
          ws.send(frame);
        });
      });
    },
  });
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice, bob);

  const lobby = [`before ${bob.name}`, lost[0], `after ${bob.name}`];
  await send(alice.page, lobby[0]);
  await expect(message(bob.page, lobby[0])).toHaveCount(1);
  await send(alice.page, lobby[1]);
  await expect.poll(() => dropped.length).toBe(1);
  await expect(message(bob.page, lost[0])).toHaveCount(0);
  // The next message skips a `seq`: bob's client asks for what it missed.
  await send(alice.page, lobby[2]);
  for (const text of lobby) await expect(message(bob.page, text)).toHaveCount(1);
  const shown = await bob.page.getByTestId("messages").locator(".text").allTextContents();
  expect(shown.slice(-3)).toEqual(lobby);

  await onlineUser(alice.page, bob.name).click();
  const secrets = [`first ${bob.name}`, lost[1], `third ${bob.name}`];
  for (const text of secrets) {
    await send(alice.page, text);
    await expect(message(alice.page, text)).toHaveCount(1);
  }
  await expect.poll(() => dropped.length).toBe(2);
  // Filled before bob looks: the lost one counts unread too (opening the
  // conversation would load its latest page anyway).
  await expect(onlineUser(bob.page, alice.name).locator(".badge")).toHaveText("3");
  await onlineUser(bob.page, alice.name).click();
  for (const text of secrets) await expect(message(bob.page, text)).toHaveCount(1);
  const conversation = await bob.page.getByTestId("messages").locator(".text").allTextContents();
  expect(conversation).toEqual(secrets);
  // Nothing was missed for long: the connection never dropped.
  await expect(bob.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
});

test("a lost presence batch is noticed by the next one, and the list is asked for again", async ({ browser, users }) => {
  let dropped = 0;
  const carolName = uniqueName("carol");
  const bob = await joinAs(browser, uniqueName("bob"), {
    prepare: async (context) => {
      await context.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          // The batch that says carol came online never arrives.
          if (typeof frame === "string" && frame.startsWith('42["presence_changes"') && frame.includes(carolName) && dropped === 0) {
            dropped++;
            return;
          }
          ws.send(frame);
        });
      });
    },
  });
  const carol = await joinAs(browser, carolName);
  users.push(bob, carol);
  await expect.poll(() => dropped).toBe(1);
  await expect(onlineUser(bob.page, carol.name)).toHaveCount(0);
  // Dave's batch is numbered one past the lost one: bob asks for the list.
  const dave = await joinAs(browser, uniqueName("dave"));
  users.push(dave);
  await expect(onlineUser(bob.page, dave.name)).toBeVisible();
  await expect(onlineUser(bob.page, carol.name)).toBeVisible();
  await expect(bob.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
});

test("while the connection is down, the online list says it is only the last one known", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const stale = alice.page.getByTestId("online-stale");
  const people = alice.page.locator("section.people");
  await expect(stale).toBeHidden();
  await expect(people).not.toHaveClass(/stale/);

  const dot = onlineUser(alice.page, alice.name).locator(".presence-dot");
  const colour = () => dot.evaluate((e) => getComputedStyle(e).backgroundColor);
  const online = await colour();

  await alice.context.setOffline(true);
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "offline");
  await expect(stale).toBeVisible();
  await expect(people).toHaveClass(/stale/);
  // The dots lose their green: nobody's presence is known now.
  expect(await colour()).not.toBe(online);

  await alice.context.setOffline(false);
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(stale).toBeHidden();
  alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(e)));
});
