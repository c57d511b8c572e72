// A whole session by keyboard alone: the skip link, joining, sending with
// Enter and a new line with Shift+Enter, a room made and joined, the arrow
// keys in the sidebar's lists, and Esc closing the thread. Focus is never
// left on <body>.
import { Page } from "@playwright/test";
import { test, expect, openPage, joinAs, uniqueName, message } from "./fixtures";

/** Presses Tab until `done` holds for the focused element (at most `limit` times). */
async function tabUntil(page: Page, done: (focused: { tag: string; text: string; classes: string; testid: string | null }) => boolean, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { tag: el.tagName, text: el.textContent?.trim() ?? "", classes: el.className, testid: el.getAttribute("data-testid") };
    });
    if (done(focused)) return;
  }
  throw new Error("Tab never reached the element");
}

test("a keyboard-only session: skip link, join, send, a room, the lists and a thread", async ({ browser, users }) => {
  const host = await joinAs(browser, uniqueName("host"));
  users.push(host);
  const user = await openPage(browser);
  users.push(user);
  const { page } = user;
  const name = uniqueName("keys");
  user.name = name;
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");

  // The first Tab reaches the skip link, which leads to the name field.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to the composer" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Pick a name to join the chat")).toBeFocused();
  await page.keyboard.type(name);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("me")).toHaveText(name);
  // Joining leaves the focus in the composer, not on <body>.
  await expect(page.getByTestId("composer")).toBeFocused();

  await page.keyboard.type("first line");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("second line");
  await page.keyboard.press("Enter");
  const sent = message(page, "second line");
  await expect(sent).toHaveCount(1);
  expect(await sent.locator(".text").innerText()).toBe("first line\nsecond line");

  // The host makes a room; the keyboard user finds and joins it.
  const title = `Keys ${name}`;
  await host.page.locator("details.new-room-panel summary").click();
  await host.page.getByLabel("New room name").fill(title);
  await host.page.getByLabel("New room name").press("Enter");
  await expect(host.page.getByTestId("conversation-title")).toHaveText(`# ${title}`);
  // The host's focus went to the composer of the new room.
  await expect(host.page.getByTestId("composer")).toBeFocused();

  const lobby = page.getByTestId("my-rooms").locator("button.room").first();
  await tabUntil(page, (el) => el.classes.includes("room"));
  await expect(lobby).toBeFocused();
  await page.getByLabel("Find a room").focus();
  await page.keyboard.type(title);
  const found = page.getByTestId("browse-rooms").locator("button.room", { hasText: title });
  await expect(found).toHaveCount(1);
  await page.keyboard.press("Tab");
  await expect(found).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("conversation-title")).toHaveText(`# ${title}`);
  const join = page.getByRole("button", { name: `Join #${title}` });
  await tabUntil(page, (el) => el.text === `Join #${title}`);
  await page.keyboard.press("Enter");
  // The Join button is gone; the focus is in the composer.
  await expect(page.getByTestId("composer")).toBeFocused();
  await expect(join).toHaveCount(0);

  // Arrow keys move through a list; Home and End go to its ends. (The
  // room search is emptied first: it filters the lists.)
  await page.getByLabel("Find a room").fill("");
  const mine = page.getByTestId("my-rooms").locator("button.room");
  await expect(mine).toHaveCount(2);
  await mine.first().focus();
  await page.keyboard.press("ArrowDown");
  await expect(mine.nth(1)).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(mine.first()).toBeFocused();
  await page.keyboard.press("End");
  await expect(mine.last()).toBeFocused();
  const people = page.getByTestId("online-users").locator("button.person");
  await people.first().focus();
  await page.keyboard.press("ArrowDown");
  await expect(people.nth(1)).toBeFocused();
  await page.keyboard.press("Home");
  await expect(people.first()).toBeFocused();

  // A thread: its composer takes the focus, Esc closes it and gives the focus back.
  await page.getByTestId("composer").focus();
  await page.keyboard.type("thread root");
  await page.keyboard.press("Enter");
  const root = message(page, "thread root");
  await expect(root).toHaveCount(1);
  await root.getByTestId("message-menu").locator(":scope > summary").focus();
  await page.keyboard.press("Enter");
  await root.getByRole("button", { name: "Reply in thread" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("thread-composer")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("thread")).toHaveCount(0);
  await expect(page.getByTestId("composer")).toBeFocused();
});

test("focus follows the control that replaced the one pressed: the recorder, a room left", async ({ browser, users }) => {
  const user = await joinAs(browser, uniqueName("focus"));
  users.push(user);
  const { page } = user;
  const voice = page.getByTestId("voice");
  await voice.getByRole("button", { name: "Record a voice message" }).focus();
  await page.keyboard.press("Enter");
  await expect(voice.getByRole("button", { name: "Stop" })).toBeFocused();
  await page.waitForTimeout(800);
  await page.keyboard.press("Enter");
  await expect(voice.getByRole("button", { name: "Send voice message" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("composer")).toBeFocused();

  const title = `Left ${user.name}`;
  await page.locator("details.new-room-panel summary").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await page.keyboard.type(title);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("conversation-title")).toHaveText(`# ${title}`);
  await expect(page.getByTestId("composer")).toBeFocused();
  await page.getByRole("button", { name: "Leave room" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("conversation-title")).toHaveText("# lobby");
  await expect(page.getByTestId("composer")).toBeFocused();
});
