// Mentions in the browser: a room holding messages that call me shows a
// mention count beside its unread count, kept by the server across a
// reload; opened, the messages that call me stand out, and the others do
// not; the Mentions page lists them and leads back. Typing @ offers people
// to call, by keyboard or pointer.
import { io, type Socket } from "socket.io-client";
import { test, expect, joinAs, openPage, onlineUser, openNewRoom, message, uniqueName, baseUrl } from "./fixtures";

test("messages that call me are counted apart and stand out", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const room = uniqueName("pw-mention-");
  await openNewRoom(alice.page);
  await alice.page.getByLabel("New room name").fill(room);
  await alice.page.getByRole("button", { name: "Create" }).click();
  await expect(alice.page.getByTestId("conversation-title")).toHaveText(`# ${room}`);
  const aliceId = Number(await onlineUser(alice.page, alice.name).getAttribute("data-user-id"));
  await alice.page.getByTestId("rooms").locator('button[data-room="lobby"]').click();

  const bob: Socket = io(baseUrl(), { transports: ["websocket"], forceNew: true });
  try {
    expect(await bob.emitWithAck("online", { name: uniqueName("bob") })).toMatchObject({ ok: true });
    expect(await bob.emitWithAck("join_room", { room })).toMatchObject({ ok: true });
    const said = async (payload: object) =>
      expect(await bob.emitWithAck("message", { room, ...payload })).toMatchObject({ ok: true });
    await said({ text: `@${alice.name} have a look`, mentions: [aliceId] });
    await said({ text: "nothing for alice" });
    await said({ text: "@here standup", everyone: "here" });

    const row = alice.page.getByTestId("rooms").locator(`button[data-room="${room}"]`);
    await expect(row.locator(".badge").first()).toHaveText("3");
    await expect(row.getByTestId("mention-badge")).toHaveText("@2");
    await expect(row.getByTestId("mention-badge")).toHaveAttribute("aria-label", "2 unread mentions of you");
    // The tab says so too: its title counts them, its icon has a dot.
    await expect(alice.page).toHaveTitle("(2) RTCA chat");
    await expect(alice.page.locator("link[rel=icon]")).toHaveAttribute("href", "/favicon-unread.svg");
    // The server keeps the count: a reload renders it again.
    await alice.page.reload();
    await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
    await expect(row.getByTestId("mention-badge")).toHaveText("@2");

    await row.click();
    await expect(row.getByTestId("mention-badge")).toHaveCount(0);
    await expect(alice.page).toHaveTitle("RTCA chat");
    await expect(alice.page.locator("link[rel=icon]")).toHaveAttribute("href", "/favicon.ico");
    await expect(message(alice.page, "have a look")).toHaveClass(/calls-me/);
    await expect(message(alice.page, "@here standup")).toHaveClass(/calls-me/);
    await expect(message(alice.page, "nothing for alice")).not.toHaveClass(/calls-me/);

    // In a room the menu offers its members and @here; picked, it calls
    // everyone online there.
    const heard = new Promise<{ text: string; everyone?: string }>((resolve) =>
      bob.on("message", (m) => m.text.startsWith("@here") && m.from.id === aliceId && resolve(m)),
    );
    const composer = alice.page.getByTestId("composer");
    await composer.pressSequentially("@he");
    await expect(alice.page.getByTestId("mention-menu").getByRole("option", { name: "@here" })).toBeVisible();
    await composer.press("Enter");
    await expect(composer).toHaveValue("@here ");
    await composer.pressSequentially("lunch?");
    await composer.press("Enter");
    expect(await heard).toMatchObject({ text: "@here lunch?", everyone: "here" });

    // The top bar leads to every mention, newest first, each a link back.
    await alice.page.getByTestId("mentions-link").click();
    await expect(alice.page).toHaveURL(/\/mentions$/);
    const hits = alice.page.getByTestId("search-hit");
    await expect(hits).toHaveCount(2);
    await expect(hits.first()).toContainText("@here standup");
    await expect(hits.nth(1).getByRole("link")).toHaveAttribute("href", new RegExp(`^/r/${room}\\?around=1#m-\\d+$`));
    await hits.nth(1).getByRole("link").click();
    await expect(alice.page).toHaveURL(new RegExp(`/r/${room}`));
    await expect(message(alice.page, "have a look")).toBeInViewport();
    await expect(message(alice.page, "have a look")).toHaveClass(/calls-me/);
  } finally {
    bob.disconnect();
  }
});

test("typing @ offers people, and the one picked is called", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const bobName = uniqueName("bob");
  const bob: Socket = io(baseUrl(), { transports: ["websocket"], forceNew: true });
  try {
    const online = await bob.emitWithAck("online", { name: bobName });
    expect(online).toMatchObject({ ok: true });
    await expect(onlineUser(alice.page, bobName)).toHaveCount(1);
    const heard = new Promise<{ text: string; mentions?: number[] }>((resolve) =>
      bob.on("message", (m) => m.text.startsWith("hi @") && resolve(m)),
    );

    const composer = alice.page.getByTestId("composer");
    const menu = alice.page.getByTestId("mention-menu");
    await composer.pressSequentially(`hi @${bobName.slice(0, 6)}`);
    await expect(menu).toBeVisible();
    await expect(menu.getByRole("option", { name: `@${bobName}` })).toHaveAttribute("aria-selected", "true");
    await expect(composer).toHaveAttribute("aria-activedescendant", /mention-\d/);
    // Esc closes it; typing on opens it again; Enter picks.
    await composer.press("Escape");
    await expect(menu).toBeHidden();
    await composer.pressSequentially(bobName.slice(6, 7));
    await expect(menu).toBeVisible();
    await composer.press("Enter");
    await expect(menu).toBeHidden();
    await expect(composer).toHaveValue(`hi @${bobName} `);
    await composer.pressSequentially("see this");
    await composer.press("Enter");
    const message = await heard;
    expect(message).toMatchObject({ text: `hi @${bobName} see this`, mentions: [online.user.id] });
    await expect(composer).toHaveValue("");

    // A click picks as well, and an address is no mention.
    await composer.pressSequentially(`mail a@b or @${bobName.slice(0, 6)}`);
    await menu.getByRole("option", { name: `@${bobName}` }).click();
    await expect(composer).toHaveValue(`mail a@b or @${bobName} `);
    await expect(composer).toBeFocused();
  } finally {
    bob.disconnect();
  }
});

test("without JavaScript an @name typed in the form calls that person", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const visitor = await openPage(browser, { javaScriptEnabled: false });
  users.push(visitor);
  await visitor.page.getByLabel("Pick a name to join the chat").fill(uniqueName("nojs"));
  await visitor.page.getByRole("button", { name: "Join" }).click();
  const text = `@${alice.name} no script needed`;
  await visitor.page.getByTestId("composer").fill(text);
  await visitor.page.getByRole("button", { name: "Send" }).click();
  await expect(message(visitor.page, text)).toHaveCount(1);
  await expect(message(alice.page, text)).toHaveClass(/calls-me/);
});
