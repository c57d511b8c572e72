// At home on a phone: a narrow touch screen, the sidebar as a drawer
// (opened by its button or a swipe from the edge), controls big enough for a thumb, nothing wider than the screen. A full
// flow: join, open a room, send, attach a photo, open a private
// conversation.
import { Page } from "@playwright/test";
import { png, attach, lastMessage } from "./files";
import { test, expect, openPage, joinAs, uniqueName, onlineUser, message, PageOptions } from "./fixtures";

const phone: PageOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** Nothing sticks out sideways: the page never scrolls horizontally. */
async function expectNoSidewaysScroll(page: Page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll, "the page is wider than the screen").toBeLessThanOrEqual(width);
}

/** Every visible button, summary and field in `scope` is at least 44 px each way. */
async function expectTouchSized(page: Page, scope: string) {
  const small = await page.evaluate((scope) => {
    const found: string[] = [];
    for (const el of document.querySelectorAll(`${scope} button, ${scope} summary, ${scope} input:not([type=hidden]):not([type=checkbox]):not([type=file]), ${scope} textarea`)) {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (box.width === 0 || box.height === 0 || style.visibility === "hidden") continue;
      if (box.width < 44 || box.height < 44) found.push(`${el.outerHTML.slice(0, 80)} ${box.width}x${box.height}`);
    }
    return found;
  }, scope);
  expect(small, `controls under 44 px in ${scope}`).toEqual([]);
}

/** One finger from `from` to `to`, through the browser's own touch input. */
async function swipe(page: Page, from: [number, number], to: [number, number]) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: from[0], y: from[1] }] });
  for (let step = 1; step <= 5; step++) {
    const [x, y] = [0, 1].map((axis) => from[axis] + ((to[axis] - from[axis]) * step) / 5);
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x, y }] });
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

test("on a phone: join, open a room from the drawer, send, attach a photo, and talk privately", async ({ browser, users }) => {
  const friend = await joinAs(browser, uniqueName("friend"));
  users.push(friend);
  const title = `Phone ${friend.name}`;
  await friend.page.locator("details.new-room-panel summary").click();
  await friend.page.getByLabel("New room name").fill(title);
  await friend.page.getByLabel("New room name").press("Enter");
  await expect(friend.page.getByTestId("conversation-title")).toHaveText(`# ${title}`);

  // A long name and a long word, to see that nothing widens the page.
  const name = `${uniqueName("thumb")}${"x".repeat(20)}`;
  const me = await openPage(browser, phone);
  me.name = name;
  users.push(me);
  const { page } = me;
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await page.getByLabel("Pick a name to join the chat").tap();
  await page.getByLabel("Pick a name to join the chat").fill(name);
  await page.getByRole("button", { name: "Join" }).tap();
  await expect(page.getByTestId("me")).toHaveText(name);

  // The sidebar is a drawer, closed until its button opens it.
  const sidebar = page.locator("#sidebar");
  const toggle = page.getByRole("button", { name: "Rooms and people" });
  await expect(sidebar).not.toBeInViewport();
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expectTouchSized(page, ".topbar");
  await expectTouchSized(page, "main");
  await toggle.tap();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(sidebar).toBeInViewport();
  await expectTouchSized(page, "#sidebar");
  await page.getByLabel("Find a room").fill(title);
  await page.getByTestId("browse-rooms").locator("button.room", { hasText: title }).tap();
  // Opening a conversation closes the drawer.
  await expect(page.getByTestId("conversation-title")).toHaveText(`# ${title}`);
  await expect(sidebar).not.toBeInViewport();
  await page.getByRole("button", { name: `Join #${title}` }).tap();

  const composer = page.getByTestId("composer");
  await composer.tap();
  await composer.fill(`hello from a phone ${"long".repeat(40)}`);
  await page.getByRole("button", { name: "Send" }).tap();
  await expect(lastMessage(friend.page)).toContainText("hello from a phone");
  await expect(lastMessage(page)).toContainText("hello from a phone");
  await expectNoSidewaysScroll(page);

  // A photo wider than the screen fits it.
  await attach(page, "wide.png", "image/png", png(1600, 400));
  const photo = lastMessage(page).getByTestId("media-image").locator("img");
  await expect(photo).toBeVisible({ timeout: 20_000 });
  await expect(lastMessage(friend.page).getByTestId("media-image")).toBeVisible();
  const box = await photo.boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(390);
  await expectNoSidewaysScroll(page);

  // Tapping beside the drawer closes it; from it, a private conversation.
  await toggle.tap();
  await expect(sidebar).toBeInViewport();
  // With a keyboard too, the open drawer keeps the focus: Shift+Tab from
  // its first control goes round to its last, and Tab from there back.
  const inDrawer = () => page.evaluate(() => !!document.activeElement?.closest("#sidebar"));
  await sidebar.evaluate((drawer) => {
    const controls = [...drawer.querySelectorAll<HTMLElement>("a[href], button:not([disabled]), input:not([type=hidden]), summary")];
    controls.find((control) => control.getClientRects().length > 0)!.focus();
  });
  await page.keyboard.press("Shift+Tab");
  expect(await inDrawer(), "Shift+Tab from the first control").toBe(true);
  await page.keyboard.press("Tab");
  expect(await inDrawer(), "Tab from the last control").toBe(true);
  // A swipe to the left closes it; one from the screen's left edge opens
  // it again, and one that starts mid-screen (or runs mostly down) does not.
  await swipe(page, [300, 400], [60, 405]);
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expect(sidebar).not.toBeInViewport();
  await swipe(page, [150, 400], [380, 400]);
  await swipe(page, [4, 300], [90, 500]);
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await swipe(page, [4, 400], [250, 410]);
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(sidebar).toBeInViewport();
  await page.locator(".drawer-backdrop").tap({ position: { x: 370, y: 400 } });
  await expect(sidebar).not.toBeInViewport();
  await toggle.tap();
  await onlineUser(page, friend.name).tap();
  await expect(page.getByTestId("conversation-title")).toContainText(friend.name);
  await expect(sidebar).not.toBeInViewport();
  await composer.fill("just us");
  await page.getByRole("button", { name: "Send" }).tap();
  await expect(friend.page.getByTestId("private-conversations").locator("button.person", { hasText: name.slice(0, 10) })).toBeVisible();
  await expectNoSidewaysScroll(page);
});

test("the page keeps clear of a phone's notch and corners", async ({ browser, users }) => {
  const me = await openPage(browser, phone);
  users.push(me);
  const viewport = await me.page.locator('meta[name="viewport"]').getAttribute("content");
  expect(viewport).toContain("viewport-fit=cover");
  // The stylesheet pads the edges by the safe-area insets.
  const css = await (await me.page.request.get(new URL("/pkg/rtca.css", me.page.url()).href)).text();
  for (const edge of ["top", "bottom", "left", "right"]) expect(css).toContain(`env(safe-area-inset-${edge})`);
});

test("on a phone, an open thread covers the conversation and keeps the keyboard's focus until Esc", async ({ browser, users }) => {
  const user = await joinAs(browser, uniqueName("thumb"), phone);
  users.push(user);
  const { page } = user;
  await page.getByTestId("composer").fill("a thread on a phone");
  await page.getByRole("button", { name: "Send" }).tap();
  const root = message(page, "a thread on a phone");
  await root.getByTestId("message-menu").locator(":scope > summary").tap();
  await root.getByRole("button", { name: "Reply in thread" }).tap();
  await expect(page.getByTestId("thread-composer")).toBeFocused();
  const inThread = () => page.evaluate(() => !!document.activeElement?.closest("[data-testid=thread]"));
  for (const key of [...Array(8).fill("Tab"), ...Array(8).fill("Shift+Tab")]) {
    await page.keyboard.press(key);
    expect(await inThread(), `after ${key}`).toBe(true);
  }
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("thread")).toHaveCount(0);
  await expect(page.getByTestId("composer")).toBeFocused();
});

