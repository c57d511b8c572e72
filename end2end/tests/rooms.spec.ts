// Rooms in the browser: create one, find it in the list, join, talk, leave;
// private rooms that outsiders cannot see or open; room addresses that are
// server-rendered, so they work as links and without JavaScript.
import { io } from "socket.io-client";
import { startServer } from "../server";
import { test, expect, joinAs, openPage, onlineUser, send, message, uniqueName, baseUrl, openNewRoom } from "./fixtures";

function roomButton(page: import("@playwright/test").Page, name: string) {
  return page.getByTestId("rooms").locator(`button[data-room="${name}"]`);
}

async function createRoom(page: import("@playwright/test").Page, name: string, isPrivate = false) {
  await openNewRoom(page);
  await page.getByLabel("New room name").fill(name);
  if (isPrivate) await page.getByLabel("Private room", { exact: true }).check();
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("conversation-title")).toHaveText(`# ${name}`);
}

test("create a room, others find it, join, talk and leave", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const room = uniqueName("pw-room-");
  // The form opens on demand.
  await expect(alice.page.getByLabel("New room name")).toBeHidden();
  await createRoom(alice.page, room);
  await expect(alice.page).toHaveURL(new RegExp(`/r/${room}$`));
  const listed = (page: import("@playwright/test").Page, list: string) => page.getByTestId(list).locator(`button[data-room="${room}"]`);
  await expect(listed(alice.page, "my-rooms")).toHaveCount(1);

  // bob sees it appear among rooms to browse, opens it, and must join
  // before posting; then it is one of his rooms.
  await expect(listed(bob.page, "browse-rooms")).toHaveCount(1);
  await expect(listed(bob.page, "my-rooms")).toHaveCount(0);
  await roomButton(bob.page, room).click();
  await expect(bob.page.getByTestId("conversation-title")).toHaveText(`# ${room}`);
  await bob.page.getByRole("button", { name: `Join #${room}` }).click();
  await expect(listed(bob.page, "my-rooms")).toHaveCount(1);
  await expect(listed(bob.page, "browse-rooms")).toHaveCount(0);
  const hello = `hello ${room} from ${bob.name}`;
  await send(bob.page, hello);
  await expect(message(alice.page, hello)).toHaveCount(1);

  // In the lobby, alice sees the room's unread count instead.
  await roomButton(alice.page, "lobby").click();
  await expect(alice.page).toHaveURL(new RegExp(`/$`));
  const later = `while you were in the lobby, ${alice.name}`;
  await send(bob.page, later);
  await expect(roomButton(alice.page, room).locator(".badge")).toHaveText("1");
  await expect(message(alice.page, later)).toHaveCount(0);

  await bob.page.getByRole("button", { name: "Leave room" }).click();
  await expect(bob.page.getByTestId("conversation-title")).toHaveText("# lobby");
  await expect(listed(bob.page, "browse-rooms")).toHaveCount(1);
  await roomButton(alice.page, room).click();
  await send(alice.page, `after bob left ${room}`);
  await roomButton(bob.page, room).click();
  await expect(bob.page.getByRole("button", { name: `Join #${room}` })).toBeVisible();
});

test("a room shows who is in it: online first, the others with how long ago they were last seen", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  const carol = await joinAs(browser, uniqueName("carol"));
  users.push(alice, bob, carol);
  const room = uniqueName("pw-crew-");
  await createRoom(alice.page, room);
  for (const member of [bob, carol]) {
    await roomButton(member.page, room).click();
    await member.page.getByRole("button", { name: `Join #${room}` }).click();
    await expect(member.page.getByRole("button", { name: "Leave room" })).toBeVisible();
  }
  await carol.page.close();
  await expect(onlineUser(alice.page, carol.name)).toHaveCount(0);

  await alice.page.locator("details.room-members summary").click();
  const rows = alice.page.getByTestId("room-members").locator("li");
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText(alice.name);
  await expect(rows.nth(0)).toContainText("online");
  await expect(rows.nth(1)).toContainText(bob.name);
  await expect(rows.nth(2)).toContainText(carol.name);
  // Gone a moment ago: said as how long ago.
  await expect(rows.nth(2)).toContainText("last seen just now");
  await expect(rows.nth(2)).toHaveClass(/offline/);
});

test("a visitor who has not joined keeps no unread counts", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const room = uniqueName("pw-open-");
  await createRoom(alice.page, room);
  // A visitor reads the public room; talk goes on in the lobby and the room.
  const visitor = await openPage(browser, { url: `${baseUrl()}/r/${room}` });
  users.push(visitor);
  await expect(visitor.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await roomButton(alice.page, "lobby").click();
  const text = `while the visitor reads ${room}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toHaveCount(1);
  await roomButton(visitor.page, "lobby").click();
  await expect(message(visitor.page, text)).toHaveCount(1);
  await roomButton(visitor.page, room).click();
  await send(alice.page, `${text}, again`);
  await expect(message(alice.page, `${text}, again`)).toHaveCount(1);
  // Bob joining comes after that message on the visitor's socket: once
  // the visitor sees him, the message has arrived too.
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(bob);
  await expect(onlineUser(visitor.page, bob.name)).toBeVisible();
  await expect(visitor.page.getByTestId("rooms").locator(".badge")).toHaveCount(0);
  await roomButton(visitor.page, "lobby").click();
  await expect(message(visitor.page, `${text}, again`)).toHaveCount(1);
});

test("room titles in any script, next to the key in their address", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const latin = `Design Team ${uniqueName("")}`;
  await openNewRoom(alice.page);
  await alice.page.getByLabel("New room name").fill(latin);
  await alice.page.getByRole("button", { name: "Create" }).click();
  await expect(alice.page.getByTestId("conversation-title")).toHaveText(`# ${latin}`);
  await expect(alice.page).toHaveURL(new RegExp(`/r/${latin.toLowerCase().replace(/ /g, "-")}$`));
  await expect(alice.page.getByTestId("composer")).toHaveAttribute("placeholder", `Message #${latin}`);

  const chinese = `设计 ${uniqueName("")}`;
  await openNewRoom(alice.page);
  await alice.page.getByLabel("New room name").fill(chinese);
  await alice.page.getByRole("button", { name: "Create" }).click();
  await expect(alice.page.getByTestId("conversation-title")).toHaveText(`# ${chinese}`);
  const address = alice.page.url();

  // Bob finds it by its title, in its own script, and reads the title.
  await bob.page.getByLabel("Find a room").fill("设计");
  const found = bob.page.getByTestId("browse-rooms").locator("button.room");
  await expect(found).toHaveCount(1);
  await expect(found).toContainText(chinese);
  await found.click();
  await expect(bob.page.getByRole("button", { name: `Join #${chinese}` })).toBeVisible();

  // Without JavaScript, its address shows the title too.
  const plain = await openPage(browser, { url: address, javaScriptEnabled: false });
  users.push(plain);
  await expect(plain.page.getByTestId("conversation-title")).toHaveText(`# ${chinese}`);
});

test("a private room is invisible to outsiders, even by its address", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const carol = await joinAs(browser, uniqueName("carol"));
  users.push(alice, carol);
  const room = uniqueName("pw-secret-");
  await createRoom(alice.page, room, true);
  const text = `members only ${room}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toHaveCount(1);

  await expect(roomButton(carol.page, room)).toHaveCount(0);
  await carol.page.goto(`${baseUrl()}/r/${room}`);
  await expect(carol.page.getByText("there is no such room")).toBeVisible();
  await expect(carol.page.getByTestId("conversation-title")).toHaveText("# lobby");
  await expect(carol.page).toHaveURL(new RegExp(`${baseUrl()}/$`));
  await expect(carol.page.getByText(text)).toHaveCount(0);

  // Invited, carol sees the room at once and can read and write there.
  await carol.page.goto(baseUrl());
  await expect(carol.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await alice.page.getByLabel("Invite someone").selectOption({ label: carol.name });
  await alice.page.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(alice.page.getByTestId("invite-status")).toHaveText("Invited.");
  await roomButton(carol.page, room).click();
  await expect(message(carol.page, text)).toHaveCount(1);
  const reply = `thanks for having me, ${room}`;
  await send(carol.page, reply);
  await expect(message(alice.page, reply)).toHaveCount(1);
});

test("a room's address is server-rendered and readable without JavaScript", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const room = uniqueName("pw-open-");
  await createRoom(alice.page, room);
  const text = `readable by link ${room}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toHaveCount(1);

  const visitor = await openPage(browser, { javaScriptEnabled: false, url: `${baseUrl()}/r/${room}` });
  users.push(visitor);
  await expect(visitor.page.getByTestId("conversation-title")).toHaveText(`# ${room}`);
  await expect(message(visitor.page, text)).toHaveCount(1);
});

test("a private conversation has its own address that survives a reload", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  await alice.page.getByTestId("online-users").locator("button.person", { hasText: bob.name }).click();
  await expect(alice.page).toHaveURL(/\/dm\/\d+$/);
  const text = `a link to our talk, ${bob.name}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toHaveCount(1);
  await alice.page.reload();
  await expect(alice.page.getByTestId("conversation-title")).toHaveText(`Private conversation with ${bob.name}`);
  await expect(message(alice.page, text)).toHaveCount(1);
});

test("without JavaScript a message on a /dm address stays private", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const aliceId = await onlineUser(bob.page, alice.name).getAttribute("data-user-id");
  const visitor = await openPage(browser, { javaScriptEnabled: false });
  users.push(visitor);
  const name = uniqueName("nojs");
  await visitor.page.getByLabel("Pick a name to join the chat").fill(name);
  await visitor.page.getByRole("button", { name: "Join" }).click();
  await expect(visitor.page.getByTestId("me")).toHaveText(name);

  await visitor.page.goto(`${baseUrl()}/dm/${aliceId}`);
  await expect(visitor.page.getByTestId("conversation-title")).toHaveText(`Private conversation with ${alice.name}`);
  const text = `just for ${alice.name}, no script`;
  await visitor.page.getByTestId("composer").fill(text);
  await visitor.page.getByRole("button", { name: "Send" }).click();
  await expect(message(visitor.page, text)).toHaveCount(1);
  await expect(visitor.page.getByTestId("conversation")).toHaveClass(/private/);
  // alice gets it privately; bob, in the lobby, never sees it.
  const visitorRow = alice.page.getByTestId("private-conversations").locator("button.person", { hasText: name });
  await expect(visitorRow.locator(".badge")).toHaveText("1");
  await expect(bob.page.locator("body")).not.toContainText(text);
});

test("a room that heard live messages before it was first opened shows its history when opened", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const room = uniqueName("pw-tail-");
  await createRoom(alice.page, room);
  const history = [1, 2, 3].map((n) => `history ${n} of ${room}`);
  for (const text of history) await send(alice.page, text);
  await expect(message(alice.page, history[2])).toHaveCount(1);
  // bob joins, then comes back to a fresh page in the lobby: a member who
  // hears the room live but has not opened it on this page.
  await roomButton(bob.page, room).click();
  await bob.page.getByRole("button", { name: `Join #${room}` }).click();
  await expect(bob.page.getByRole("button", { name: "Leave room" })).toBeVisible();
  await bob.page.goto(baseUrl());
  await expect(bob.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");

  const live = `live in ${room}`;
  await send(alice.page, live);
  await expect(roomButton(bob.page, room).locator(".badge")).toHaveText("1");
  await roomButton(bob.page, room).click();
  for (const text of [...history, live]) await expect(message(bob.page, text)).toHaveCount(1);
  const shown = await bob.page.getByTestId("messages").locator(".text").allTextContents();
  expect(shown).toEqual([...history, live]);
});

test("public rooms past the first page are found by search and by More rooms, with or without JavaScript", async ({ browser, users }) => {
  const server = await startServer({ env: { RTCA_RATE_PUBLIC_ROOMS: "1000:1000", RTCA_RATE_OTHER: "1000:1000" } });
  try {
    // 110 public rooms, made by two guests (each may be in 100): the first
    // page lists 100 of them, by name, so pg-b-45 to pg-b-54 are past it.
    for (const maker of ["a", "b"]) {
      const socket = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false });
      expect(await socket.emitWithAck("online", { name: uniqueName(`maker-${maker}`) })).toMatchObject({ ok: true });
      for (let n = 0; n < 55; n++) {
        const name = `pg-${maker}-${String(n).padStart(2, "0")}`;
        expect(await socket.emitWithAck("create_room", { name })).toMatchObject({ ok: true });
      }
      socket.disconnect();
    }
    const rooms = (page: import("@playwright/test").Page) => page.getByTestId("rooms").locator("button.room");

    const reader = await openPage(browser, { url: server.url });
    users.push(reader);
    await expect(reader.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
    await expect(rooms(reader.page)).toHaveCount(1 + 100);
    await expect(roomButton(reader.page, "pg-b-54")).toHaveCount(0);
    // A search asks the server, so it finds a room the list did not hold.
    await reader.page.getByLabel("Find a room").fill("B-54");
    await expect(rooms(reader.page)).toHaveCount(1);
    await expect(roomButton(reader.page, "pg-b-54")).toHaveCount(1);
    await expect(reader.page.getByRole("link", { name: "More rooms" })).toHaveCount(0);
    // Without a search, the next page comes after the first.
    await reader.page.getByLabel("Find a room").fill("");
    await reader.page.getByRole("link", { name: "More rooms" }).click();
    await expect(rooms(reader.page)).toHaveCount(1 + 110);
    await expect(reader.page.getByRole("link", { name: "More rooms" })).toHaveCount(0);

    // Without JavaScript both are a GET of the page.
    const plain = await openPage(browser, { url: server.url, javaScriptEnabled: false });
    users.push(plain);
    await plain.page.getByLabel("Find a room").fill("b-54");
    await plain.page.getByLabel("Find a room").press("Enter");
    await expect(plain.page).toHaveURL(/\?query=b-54$/);
    await expect(rooms(plain.page)).toHaveCount(1);
    await expect(roomButton(plain.page, "pg-b-54")).toHaveCount(1);
    await plain.page.goto(server.url);
    await expect(roomButton(plain.page, "pg-b-54")).toHaveCount(0);
    await plain.page.getByRole("link", { name: "More rooms" }).click();
    await expect(roomButton(plain.page, "pg-b-54")).toHaveCount(1);
    await expect(roomButton(plain.page, "lobby")).toHaveCount(1);
  } finally {
    await server.stop();
  }
});

test("Back and Forward move between conversations, at their addresses", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const { page } = alice;
  const room = uniqueName("pw-back-");
  await createRoom(page, room);
  await roomButton(page, "lobby").click();
  await expect(page).toHaveURL(/\/$/);
  await page.getByTestId("online-users").locator("button.person", { hasText: bob.name }).click();
  await expect(page).toHaveURL(/\/dm\/\d+$/);
  const title = page.getByTestId("conversation-title");
  await expect(title).toContainText(bob.name);
  await page.evaluate(() => ((window as any).stillThisPage = true));

  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(title).toHaveText("# lobby");
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/r/${room}$`));
  await expect(title).toHaveText(`# ${room}`);
  await page.goForward();
  await page.goForward();
  await expect(page).toHaveURL(/\/dm\/\d+$/);
  await expect(title).toContainText(bob.name);
  // All of it in the one page, which never reloaded.
  expect(await page.evaluate(() => (window as any).stillThisPage)).toBe(true);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
});
