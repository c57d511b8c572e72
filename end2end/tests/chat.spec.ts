// The chat as people use it, in real Chromium against the real server.
import { io } from "socket.io-client";
import { test, expect, joinAs, openPage, onlineUser, send, message, uniqueName, baseUrl } from "./fixtures";

test("a message appears live for everyone in the lobby", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  const carol = await joinAs(browser, uniqueName("carol"));
  users.push(alice, bob, carol);

  const text = `hello from ${alice.name}`;
  await send(alice.page, text);
  for (const user of [alice, bob, carol]) {
    await expect(message(user.page, text)).toBeVisible();
    await expect(message(user.page, text).locator(".from")).toHaveText(alice.name);
    await expect(message(user.page, text).locator("time")).toHaveText(/^\d\d:\d\d$/);
  }
  await expect(alice.page.getByTestId("composer")).toHaveValue("");
});

test("closing a page shows that user offline to others", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  await expect(onlineUser(alice.page, bob.name)).toBeVisible();
  await bob.page.close();
  await expect(onlineUser(alice.page, bob.name)).toHaveCount(0);
});

test("the same user in two tabs is one online user until both close", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const secondTab = await bob.context.newPage();
  await secondTab.goto(baseUrl());
  await expect(secondTab.getByTestId("me")).toHaveText(bob.name);
  await expect(onlineUser(secondTab, bob.name)).toBeVisible();
  await expect(onlineUser(alice.page, bob.name)).toHaveCount(1);

  await bob.page.close();
  // Still online: the second tab is open.
  await alice.page.waitForTimeout(500);
  await expect(onlineUser(alice.page, bob.name)).toHaveCount(1);
  await secondTab.close();
  await expect(onlineUser(alice.page, bob.name)).toHaveCount(0);
});

test("a private message reaches only its recipient", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  const carol = await joinAs(browser, uniqueName("carol"));
  users.push(alice, bob, carol);

  await onlineUser(alice.page, bob.name).click();
  await expect(alice.page.getByTestId("conversation-title")).toHaveText(`Private conversation with ${bob.name}`);
  const secret = `only for ${bob.name}`;
  await send(alice.page, secret);
  // The whole conversation is marked private, not each message; mine look different from theirs.
  await expect(alice.page.getByTestId("conversation")).toHaveClass(/private/);
  await expect(message(alice.page, secret)).toHaveClass(/mine/);

  // Bob sees an unread badge, then the message, in a conversation marked private.
  await expect(onlineUser(bob.page, alice.name).locator(".badge")).toHaveText("1");
  await expect(message(bob.page, secret)).toHaveCount(0);
  await onlineUser(bob.page, alice.name).click();
  await expect(message(bob.page, secret)).toBeVisible();
  await expect(message(bob.page, secret)).not.toHaveClass(/mine/);
  await expect(bob.page.getByTestId("conversation")).toHaveClass(/private/);

  // A lobby message afterwards is a barrier for carol.
  const barrier = `barrier ${carol.name}`;
  await alice.page.getByRole("button", { name: "# lobby" }).click();
  await send(alice.page, barrier);
  await expect(message(carol.page, barrier)).toBeVisible();
  await expect(carol.page.locator("body")).not.toContainText(secret);
  await onlineUser(carol.page, alice.name).click();
  await expect(carol.page.locator("body")).not.toContainText(secret);
});

test("a reload keeps the identity and shows the history", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const text = `persisted ${alice.name}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toBeVisible();
  await alice.page.reload();
  await expect(alice.page.getByTestId("me")).toHaveText(alice.name);
  await expect(message(alice.page, text)).toBeVisible();
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(onlineUser(alice.page, alice.name)).toBeVisible();
});

test("without JavaScript the page still shows history and who is online", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const text = `server rendered ${alice.name}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toBeVisible();

  const visitor = await openPage(browser, { javaScriptEnabled: false });
  users.push(visitor);
  await expect(message(visitor.page, text)).toBeVisible();
  await expect(onlineUser(visitor.page, alice.name)).toBeVisible();
  await expect(visitor.page.getByLabel("Pick a name to join the chat")).toBeVisible();
});

test("without JavaScript a visitor can join and post", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const visitor = await openPage(browser, { javaScriptEnabled: false });
  users.push(alice, visitor);
  const name = uniqueName("nojs");
  await visitor.page.getByLabel("Pick a name to join the chat").fill(name);
  await visitor.page.getByRole("button", { name: "Join" }).click();
  await expect(visitor.page.getByTestId("me")).toHaveText(name);

  const text = `posted without javascript ${name}`;
  await visitor.page.getByTestId("composer").fill(text);
  await visitor.page.getByRole("button", { name: "Send" }).click();
  await expect(message(visitor.page, text)).toHaveCount(1);
  await expect(message(visitor.page, text).locator(".from")).toHaveText(name);
  // Delivered live to people with JavaScript.
  await expect(message(alice.page, text)).toBeVisible();

  // A refusal comes back in words, on the same page.
  await visitor.page.getByTestId("composer").fill("   ");
  await visitor.page.getByRole("button", { name: "Send" }).click();
  await expect(visitor.page.getByTestId("composer-error")).toHaveText("a message cannot be empty");
});

test("typed markup is shown as text and never runs", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  // The page carries its data in a script element: text that would end it
  // early must stay text too.
  const payload = `<b>bold</b><img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script><!-- ${alice.name}`;
  await send(alice.page, payload);
  for (const user of [alice, bob]) {
    const row = message(user.page, alice.name).last();
    await expect(row.locator(".text")).toHaveText(payload);
    await expect(row.locator("b, img")).toHaveCount(0);
    expect(await user.page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  }
  // And after a server render, too.
  await bob.page.reload();
  await expect(message(bob.page, alice.name).last().locator(".text")).toHaveText(payload);
  expect(await bob.page.evaluate(() => (window as any).__pwned)).toBeUndefined();
});

test("the composer explains empty and too-long messages", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const composer = alice.page.getByTestId("composer");
  await composer.fill("   ");
  await composer.press("Enter");
  await expect(alice.page.getByTestId("composer-error")).toHaveText("a message cannot be empty");
  await composer.fill("x".repeat(4001));
  await composer.press("Enter");
  await expect(alice.page.getByTestId("composer-error")).toHaveText("a message can have at most 4000 characters");
  await expect(composer).toHaveValue("x".repeat(4001));
});

const TAKEN = "that name, or one that looks just like it, is someone else's; pick another";

test("a name held by someone online is refused with a clear message", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const imposter = await openPage(browser);
  users.push(alice, imposter);
  await expect(imposter.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await imposter.page.getByLabel("Pick a name to join the chat").fill(alice.name.toUpperCase());
  await imposter.page.getByRole("button", { name: "Join" }).click();
  await expect(imposter.page.getByTestId("join-error")).toHaveText(TAKEN);
});

test("a guest's name stays theirs while they are away, look-alikes included", async ({ browser, users }) => {
  const olivia = await joinAs(browser, uniqueName("Olivia"));
  users.push(olivia);
  await olivia.page.close();
  const imposter = await openPage(browser);
  users.push(imposter);
  await expect(imposter.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(onlineUser(imposter.page, olivia.name)).toHaveCount(0);
  const lookAlike = olivia.name.replace("i", "\u0456"); // a Cyrillic і
  expect(lookAlike).not.toBe(olivia.name);
  for (const name of [olivia.name, olivia.name.toLowerCase(), lookAlike]) {
    await imposter.page.getByLabel("Pick a name to join the chat").fill(name);
    await imposter.page.getByRole("button", { name: "Join" }).click();
    await expect(imposter.page.getByTestId("join-error"), name).toHaveText(TAKEN);
  }
  // Olivia comes back to her name.
  olivia.page = await olivia.context.newPage();
  await olivia.page.goto(baseUrl());
  await expect(olivia.page.getByTestId("me")).toHaveText(olivia.name);
  await expect(onlineUser(imposter.page, olivia.name)).toHaveCount(1);
});

test("two people who still share a name are told apart", async ({ browser, users }) => {
  // A client that never presents its token (the prototype's) holds no name
  // once it goes; it can still come back with its token and keep its name.
  const name = uniqueName("Sam");
  const first = io(baseUrl(), { transports: ["websocket"], forceNew: true });
  const firstAck = await first.emitWithAck("online", { name });
  first.disconnect();
  const second = io(baseUrl(), { transports: ["websocket"], forceNew: true });
  const secondAck = await second.emitWithAck("online", { name });
  expect(secondAck.ok).toBe(true);
  const back = io(baseUrl(), { transports: ["websocket"], forceNew: true, auth: { token: firstAck.token } });
  try {
    const viewer = await openPage(browser);
    users.push(viewer);
    const both = viewer.page.getByTestId("online-users").locator("button.person", { hasText: name });
    // In id order (the list's order for one name): the first came first.
    await expect(both).toHaveText([`${name} #${firstAck.user.id}`, `${name} #${secondAck.user.id}`]);
    second.disconnect();
    await expect(both).toHaveText([name]);
  } finally {
    back.disconnect();
    second.disconnect();
  }
});

test("works on a phone-sized screen", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"), { viewport: { width: 390, height: 780 } });
  users.push(alice);
  const text = `from my phone ${alice.name}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toBeInViewport();
  await expect(alice.page.getByTestId("composer")).toBeInViewport();
  const overflow = await alice.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("a sent message stays shown when its own copy never comes back", async ({ browser, users }) => {
  // The server acks a message, then delivers it to the room, the sender's
  // tab included. Here the sender's copy is lost on the way (a full queue
  // drops it): the ack alone must keep the message on screen, as sent.
  const text = `acked but never echoed ${uniqueName("")}`;
  let dropped = 0;
  const alice = await joinAs(browser, uniqueName("alice"), {
    prepare: async (context) => {
      await context.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          if (typeof frame === "string" && frame.startsWith("42") && frame.includes(text)) {
            dropped += 1;
            return;
          }
          ws.send(frame);
        });
      });
    },
  });
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  await send(alice.page, text);
  await expect(message(bob.page, text)).toHaveCount(1);
  await expect.poll(() => dropped).toBe(1);
  await expect(message(alice.page, text)).toHaveCount(1);
  await expect(alice.page.getByTestId("pending")).toHaveCount(0);
  // Shown as stored, with its time, like any other message.
  await expect(message(alice.page, text).locator("time")).toHaveText(/^\d\d:\d\d$/);
});
