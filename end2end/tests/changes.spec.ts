// A message can change after it is sent: its author edits or deletes it,
// anyone reacts to it. Each change shows live in every browser, reaches
// one that was offline when it comes back, and shows (and can be made)
// without JavaScript too.
import { Locator, Page } from "@playwright/test";
import { io } from "socket.io-client";
import { test, expect, joinAs, openPage, send, message, uniqueName, baseUrl } from "./fixtures";

/** Opens the menu of the message holding `text`. */
async function menu(page: Page, text: string) {
  return menuOf(message(page, text));
}

/** Opens the menu of the message `row`. */
async function menuOf(row: Locator) {
  await row.hover();
  const details = row.getByTestId("message-menu");
  if (!(await details.evaluate((d: HTMLDetailsElement) => d.open))) await details.locator(":scope > summary").click();
  return details;
}

async function edit(page: Page, text: string, replacement: string) {
  const details = await menu(page, text);
  await details.getByTestId("edit-text").fill(replacement);
  await details.getByRole("button", { name: "Save edit" }).click();
}

/** Deletes the message `row` through its menu, confirming. */
async function remove(row: Locator) {
  const details = await menuOf(row);
  await details.getByText("Delete…").click();
  await details.getByRole("button", { name: "Delete for everyone" }).click();
}

function chip(page: Page, text: string, emoji: string) {
  return message(page, text).getByTestId("reactions").locator("button.reaction", { hasText: emoji });
}

test("edits, reactions and deletions show live in every browser", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const draft = `first draft by ${alice.name}`;
  const final = `final words by ${alice.name}`;
  await send(alice.page, draft);
  await expect(message(bob.page, draft)).toHaveCount(1);

  // Only the author is offered editing and deleting.
  const bobsMenu = await menu(bob.page, draft);
  await expect(bobsMenu.getByRole("button", { name: "Save edit" })).toHaveCount(0);
  // Esc closes it from inside, and the focus stays on its button.
  await bobsMenu.getByRole("button", { name: "React with 👍" }).focus();
  await bob.page.keyboard.press("Escape");
  await expect(bobsMenu).not.toHaveAttribute("open");
  await expect(bobsMenu.locator(":scope > summary")).toBeFocused();

  await edit(alice.page, draft, final);
  for (const user of [alice, bob]) {
    await expect(message(user.page, final)).toHaveCount(1);
    await expect(message(user.page, final).getByTestId("edited")).toHaveText("(edited)");
    await expect(message(user.page, draft)).toHaveCount(0);
  }

  // Bob reacts from the menu; both see it, and it is pressed for him only.
  await (await menu(bob.page, final)).getByRole("button", { name: "React with 👍" }).click();
  for (const user of [alice, bob]) await expect(chip(user.page, final, "👍")).toHaveText("👍 1");
  await expect(chip(bob.page, final, "👍")).toHaveAttribute("aria-pressed", "true");
  await expect(chip(alice.page, final, "👍")).toHaveAttribute("aria-pressed", "false");
  await expect(chip(alice.page, final, "👍")).toHaveAttribute("title", new RegExp(bob.name));
  // Alice adds hers by pressing the chip; bob takes his back the same way.
  await chip(alice.page, final, "👍").click();
  await expect(chip(bob.page, final, "👍")).toHaveText("👍 2");
  await chip(bob.page, final, "👍").click();
  await expect(chip(alice.page, final, "👍")).toHaveText("👍 1");
  await expect(chip(alice.page, final, "👍")).toHaveAttribute("aria-pressed", "true");
  // Any emoji, typed.
  const other = await menu(bob.page, final);
  await other.getByLabel("Another emoji").fill("🦀");
  await other.getByRole("button", { name: "React", exact: true }).click();
  await expect(chip(alice.page, final, "🦀")).toHaveText("🦀 1");

  // Deleting leaves a tombstone in its place, for everyone.
  const alicesMenu = await menu(alice.page, final);
  await alicesMenu.getByText("Delete…").click();
  // Esc closes the innermost first: the confirmation, then the menu.
  await alice.page.keyboard.press("Escape");
  await expect(alicesMenu.locator("details.delete-message")).not.toHaveAttribute("open");
  await expect(alicesMenu).toHaveAttribute("open");
  await alicesMenu.getByText("Delete…").click();
  await alicesMenu.getByRole("button", { name: "Delete for everyone" }).click();
  for (const user of [alice, bob]) {
    await expect(message(user.page, final)).toHaveCount(0);
    await expect(user.page.getByTestId("tombstone").last()).toHaveText("Message deleted");
  }
});

test("changes made while a browser was offline reach it when it is back", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const before = `said before ${alice.name}`;
  const gone = `to be deleted ${alice.name}`;
  for (const text of [before, gone]) {
    await send(alice.page, text);
    await expect(message(bob.page, text)).toHaveCount(1);
  }
  const status = bob.page.getByTestId("connection-status");
  await bob.context.setOffline(true);
  await expect(status).toHaveAttribute("data-state", "offline");
  const after = `said after ${alice.name}`;
  await edit(alice.page, before, after);
  await expect(message(alice.page, after)).toHaveCount(1);
  await (await menu(alice.page, after)).getByRole("button", { name: "React with 🎉" }).click();
  await expect(chip(alice.page, after, "🎉")).toHaveText("🎉 1");
  await remove(message(alice.page, gone));
  await expect(message(alice.page, gone)).toHaveCount(0);
  await expect(message(bob.page, before)).toHaveCount(1);

  await bob.context.setOffline(false);
  await expect(status).toHaveAttribute("data-state", "connected");
  await expect(message(bob.page, after)).toHaveCount(1);
  await expect(chip(bob.page, after, "🎉")).toHaveText("🎉 1");
  await expect(message(bob.page, gone)).toHaveCount(0);
  await expect(message(bob.page, before)).toHaveCount(0);
});

test("changes made while offline are made once the connection is back, in order", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const first = `written online ${alice.name}`;
  const gone = `deleted offline ${alice.name}`;
  for (const text of [first, gone]) {
    await send(alice.page, text);
    await expect(message(bob.page, text)).toHaveCount(1);
  }
  const status = alice.page.getByTestId("connection-status");
  const notice = alice.page.getByTestId("notice");
  await alice.context.setOffline(true);
  await expect(status).toHaveAttribute("data-state", "offline");
  const fixed = `fixed offline ${alice.name}`;
  await edit(alice.page, first, fixed);
  await expect(notice).toContainText("Not connected: your change will be made once the connection is back.");
  // A reaction toggled on and off again while offline ends as none; one
  // toggled once stays.
  await (await menu(alice.page, first)).getByRole("button", { name: "React with 🎉" }).click();
  await (await menu(alice.page, first)).getByRole("button", { name: "React with 🎉" }).click();
  await (await menu(alice.page, first)).getByRole("button", { name: "React with ❤️" }).click();
  await remove(message(alice.page, gone));
  // Nothing has reached anyone yet.
  await expect(message(bob.page, first)).toHaveCount(1);
  await expect(message(bob.page, gone)).toHaveCount(1);

  await alice.context.setOffline(false);
  await expect(status).toHaveAttribute("data-state", "connected");
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, fixed)).toHaveCount(1);
    await expect(chip(page, fixed, "❤️")).toHaveText("❤️ 1");
    await expect(chip(page, fixed, "🎉")).toHaveCount(0);
    await expect(message(page, gone)).toHaveCount(0);
  }
});

test("without JavaScript a page shows every change, and reacting, editing and deleting are forms", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const text = `for the plain page ${alice.name}`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toHaveCount(1);
  await (await menu(alice.page, text)).getByRole("button", { name: "React with ❤️" }).click();
  await expect(chip(alice.page, text, "❤️")).toHaveText("❤️ 1");

  const plain = await openPage(browser, { javaScriptEnabled: false });
  users.push(plain);
  await expect(chip(plain.page, text, "❤️")).toHaveText("❤️ 1");
  const name = uniqueName("nojs");
  await plain.page.getByLabel("Pick a name to join the chat").fill(name);
  await plain.page.getByRole("button", { name: "Join" }).click();
  await expect(plain.page.getByTestId("me")).toHaveText(name);

  // A reaction by form: the page comes back with it, and alice sees it live.
  await chip(plain.page, text, "❤️").click();
  await expect(chip(plain.page, text, "❤️")).toHaveText("❤️ 2");
  await expect(chip(alice.page, text, "❤️")).toHaveText("❤️ 2");
  // Someone else's message offers no editing; one's own does.
  await expect(message(plain.page, text).getByTestId("edit-text")).toHaveCount(0);
  const mine = `mine without script ${name}`;
  await plain.page.getByTestId("composer").fill(mine);
  await plain.page.getByRole("button", { name: "Send" }).click();
  await expect(message(plain.page, mine)).toHaveCount(1);
  const edited = `${mine}, edited`;
  await edit(plain.page, mine, edited);
  await expect(message(plain.page, edited).getByTestId("edited")).toHaveText("(edited)");
  await expect(message(alice.page, edited)).toHaveCount(1);
  const plainMenu = await menu(plain.page, edited);
  await plainMenu.getByText("Delete…").click();
  await plainMenu.getByRole("button", { name: "Delete for everyone" }).click();
  await expect(message(plain.page, edited)).toHaveCount(0);
  await expect(message(alice.page, edited)).toHaveCount(0);
  // Someone else's message cannot be edited by a crafted post either.
  const refused = await plain.page.request.post(new URL("/api/edit_message", plain.page.url()).href, {
    form: { id: await messageId(alice.page, text), text: "taken over" },
    headers: { origin: new URL(plain.page.url()).origin },
    maxRedirects: 0,
  });
  expect(refused.status(), await refused.text()).not.toBe(200);
  await plain.page.reload();
  await expect(message(plain.page, text)).toHaveCount(1);
  await expect(message(plain.page, "taken over")).toHaveCount(0);
});

/** The id of the message holding `text`, from its menu's form. */
async function messageId(page: Page, text: string) {
  return message(page, text).locator("input[name=id]").first().inputValue();
}

test("a reply quotes its original, and the quote leads back to it through earlier pages", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const question = `where is the meeting? ${alice.name}`;
  await send(alice.page, question);
  await expect(message(bob.page, question)).toHaveCount(1);

  await (await menu(bob.page, question)).getByRole("button", { name: "Reply", exact: true }).click();
  await expect(bob.page.getByTestId("replying")).toContainText(question);
  await expect(bob.page.getByTestId("composer")).toBeFocused();
  // Sixty messages later, the question is off the latest page (four
  // writers, each within the sending limits).
  for (let writer = 0; writer < 4; writer++) {
    const filler = io(baseUrl(), { transports: ["websocket"], forceNew: true });
    try {
      await filler.emitWithAck("online", { name: uniqueName("filler") });
      for (let n = 0; n < 15; n++) expect(await filler.emitWithAck("message", { text: `filler ${n}` })).toMatchObject({ ok: true });
    } finally {
      filler.disconnect();
    }
  }
  const answer = `room 4, ${bob.name}`;
  await send(bob.page, answer);
  await expect(bob.page.getByTestId("replying")).toHaveCount(0);
  for (const user of [alice, bob]) {
    await expect(message(user.page, answer).getByTestId("quote")).toContainText(question);
  }

  await alice.page.reload();
  await expect(message(alice.page, answer)).toHaveCount(1);
  // The original itself, not the reply that quotes it.
  const original = message(alice.page, question).filter({ has: alice.page.locator(".text", { hasText: question }) });
  await expect(original).toHaveCount(0);
  await message(alice.page, answer).getByTestId("quote").click();
  await expect(original).toBeInViewport();

  // The original deleted, quotes of it say so at once, everywhere.
  await remove(original);
  for (const user of [alice, bob]) {
    await expect(message(user.page, answer).getByTestId("quote")).toContainText("Original message deleted");
    await expect(message(user.page, answer).getByTestId("quote")).not.toContainText(question);
  }
});

test("a thread opens beside the conversation, is answered there, and counts on its root", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const root = `lunch on friday? ${alice.name}`;
  await send(alice.page, root);
  await expect(message(bob.page, root)).toHaveCount(1);

  await (await menu(bob.page, root)).getByRole("button", { name: "Reply in thread" }).click();
  const thread = bob.page.getByTestId("thread");
  await expect(thread.locator("[data-testid=message]", { hasText: root })).toHaveCount(1);
  const inThread = `count me in ${bob.name}`;
  await thread.getByTestId("thread-composer").fill(inThread);
  await thread.getByTestId("thread-composer").press("Enter");
  await expect(thread.locator("[data-testid=message]", { hasText: inThread })).toHaveCount(1);
  // Not in the conversation; counted on the root, for everyone.
  await expect(alice.page.getByTestId("messages").getByText(inThread)).toHaveCount(0);
  await expect(message(alice.page, root).getByTestId("thread-summary")).toContainText("1 reply");

  // Sent to the conversation as well, it shows in both.
  const both = `and me, says ${bob.name}`;
  await thread.getByLabel("Also send to the conversation").check();
  await thread.getByTestId("thread-composer").fill(both);
  await thread.getByTestId("thread-composer").press("Enter");
  await expect(message(alice.page, both)).toHaveCount(1);
  await expect(message(alice.page, both).getByTestId("thread-summary")).toHaveText("In a thread");
  await expect(message(alice.page, root).getByTestId("thread-summary")).toContainText("2 replies");

  // Alice opens it from the root, after a reload: the replies load.
  await alice.page.reload();
  await message(alice.page, root).getByTestId("thread-summary").click();
  const hers = alice.page.getByTestId("thread");
  for (const text of [inThread, both]) await expect(hers.locator("[data-testid=message]", { hasText: text })).toHaveCount(1);
  await hers.getByRole("button", { name: "Close the thread" }).click();
  await expect(hers).toHaveCount(0);
});

test("each thread keeps what was typed in it and not sent", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const [first, second] = [`first root ${alice.name}`, `second root ${alice.name}`];
  for (const text of [first, second]) await send(alice.page, text);
  const thread = alice.page.getByTestId("thread");
  const composer = thread.getByTestId("thread-composer");
  const openThread = async (root: string) => {
    await (await menu(alice.page, root)).getByRole("button", { name: "Reply in thread" }).click();
    await expect(thread.locator("[data-testid=message]", { hasText: root })).toHaveCount(1);
  };
  await openThread(first);
  await composer.fill("half an answer to the first");
  await openThread(second);
  await expect(composer).toHaveValue("");
  await composer.fill("for the second");
  await thread.getByRole("button", { name: "Close the thread" }).click();
  await openThread(first);
  await expect(composer).toHaveValue("half an answer to the first");
  await openThread(second);
  await expect(composer).toHaveValue("for the second");
});
