// Rooms in the browser: create one, find it in the list, join, talk, leave;
// private rooms that outsiders cannot see or open; room addresses that are
// server-rendered, so they work as links and without JavaScript.
import { test, expect, joinAs, openPage, onlineUser, send, message, uniqueName, baseUrl } from "./fixtures";

function roomButton(page: import("@playwright/test").Page, name: string) {
  return page.getByTestId("rooms").locator(`button[data-room="${name}"]`);
}

async function createRoom(page: import("@playwright/test").Page, name: string, isPrivate = false) {
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
  await createRoom(alice.page, room);
  await expect(alice.page).toHaveURL(new RegExp(`/r/${room}$`));

  // bob sees it appear, opens it, and must join before posting.
  await roomButton(bob.page, room).click();
  await expect(bob.page.getByTestId("conversation-title")).toHaveText(`# ${room}`);
  await bob.page.getByRole("button", { name: `Join #${room}` }).click();
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
  await roomButton(alice.page, room).click();
  await send(alice.page, `after bob left ${room}`);
  await roomButton(bob.page, room).click();
  await expect(bob.page.getByRole("button", { name: `Join #${room}` })).toBeVisible();
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
  await expect(message(visitor.page, text)).toHaveClass(/private/);
  // alice gets it privately; bob, in the lobby, never sees it.
  await expect(alice.page.locator("button.person", { hasText: name }).locator(".badge")).toHaveText("1");
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
