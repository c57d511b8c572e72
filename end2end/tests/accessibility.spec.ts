// Accessible to all: axe-core finds no serious or critical violation in any
// main state of the chat, in the light theme and the dark one.
import AxeBuilder from "@axe-core/playwright";
import { BrowserContext, Page } from "@playwright/test";
import { png, attach, throttleUploads } from "./files";
import { test, expect, openPage, joinAs, uniqueName, send, message, openNewRoom, onlineUser, baseUrl, PageOptions } from "./fixtures";

/** Fails with every serious or critical violation axe finds on `page` now, named by `state`. */
async function expectAccessible(page: Page, state: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const grave = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary}`).join("\n")}`);
  expect(grave, `axe, ${state}`).toEqual([]);
}

for (const colorScheme of ["light", "dark"] as const) {
  const options: PageOptions = { colorScheme };

  test(`${colorScheme}: the forms before joining, with their errors`, async ({ browser, users }) => {
    const visitor = await openPage(browser, options);
    users.push(visitor);
    const { page } = visitor;
    await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
    await expectAccessible(page, "first visit");
    await page.getByLabel("Account name", { exact: true }).fill(uniqueName("nobody"));
    await page.getByLabel("Password", { exact: true }).fill("not a password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("account-error")).not.toBeEmpty();
    await page.locator("details.sign-up summary").click();
    await page.getByLabel("New account name", { exact: true }).fill(uniqueName("new"));
    await page.getByLabel("New password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expectAccessible(page, "sign-in and sign-up errors");
  });

  test(`${colorScheme}: the lobby, a room, a private conversation and a thread`, async ({ browser, users }) => {
    const alice = await joinAs(browser, uniqueName("alice"), options);
    const bob = await joinAs(browser, uniqueName("bob"), options);
    users.push(alice, bob);
    const hello = `hello from ${bob.name}`;
    await send(bob.page, hello);
    await send(alice.page, `and from ${alice.name}`);
    // A message that calls alice stands out for her.
    await send(bob.page, `@${alice.name} look`);
    await expect(message(alice.page, hello)).toHaveCount(1);
    await expect(message(alice.page, `@${alice.name} look`)).toHaveClass(/calls-me/);
    await expectAccessible(alice.page, "lobby");

    const row = message(alice.page, hello);
    await row.hover();
    await row.getByTestId("message-menu").locator(":scope > summary").click();
    await expectAccessible(alice.page, "a message's menu");
    await row.getByTestId("message-menu").getByRole("button", { name: "Reply in thread" }).click();
    await expect(alice.page.getByTestId("thread")).toBeVisible();
    await expectAccessible(alice.page, "a thread");

    await openNewRoom(alice.page);
    await alice.page.getByLabel("New room name").fill(`Room ${alice.name}`);
    await alice.page.getByRole("button", { name: "Create" }).click();
    await expect(alice.page.getByTestId("conversation-title")).toHaveText(`# Room ${alice.name}`);
    await send(alice.page, "first in the room");
    await expectAccessible(alice.page, "a room");

    await onlineUser(alice.page, bob.name).click();
    await expect(alice.page.getByTestId("conversation-title")).toContainText(bob.name);
    await send(alice.page, "just between us");
    await expectAccessible(alice.page, "a private conversation");
    await alice.page.getByTestId("composer").pressSequentially(`@${bob.name.slice(0, 5)}`);
    await expect(alice.page.getByTestId("mention-menu")).toBeVisible();
    await expectAccessible(alice.page, "the composer's @ menu");
    await alice.page.goto(`${baseUrl()}/mentions`);
    await expect(alice.page.getByTestId("search-hit")).toHaveCount(1);
    await expectAccessible(alice.page, "the mentions page");
  });

  test(`${colorScheme}: uploading, recording, and the connection lost`, async ({ browser, users }) => {
    const alice = await joinAs(browser, uniqueName("alice"), options);
    users.push(alice);
    const { page } = alice;
    await throttleUploads(page, 40 * 1024);
    await attach(page, "slow.png", "image/png", png(600, 600, true));
    await expect(page.getByTestId("upload").locator("progress")).toBeVisible();
    await expectAccessible(page, "the upload tray mid-upload");
    await page.getByTestId("upload").getByRole("button", { name: "Cancel" }).click();

    const voice = page.getByTestId("voice");
    await voice.getByRole("button", { name: "Record a voice message" }).click();
    await expect(voice.getByRole("status")).toHaveText("● Recording");
    await expectAccessible(page, "the recorder");
    await voice.getByRole("button", { name: "Stop" }).click();
    await expect(voice.getByTestId("voice-preview")).toBeVisible();
    await expectAccessible(page, "a recording's preview");

    await alice.context.setOffline(true);
    await expect(page.getByTestId("connection-status")).not.toHaveAttribute("data-state", "connected");
    await expectAccessible(page, "the connection lost");
    await alice.context.setOffline(false);
    await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  });

  test(`${colorScheme}: the phone layout, its drawer closed and open`, async ({ browser, users }) => {
    const user = await joinAs(browser, uniqueName("phone"), {
      ...options,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    users.push(user);
    await send(user.page, "from a phone");
    await expectAccessible(user.page, "the phone layout");
    await user.page.getByRole("button", { name: "Rooms and people" }).tap();
    await expect(user.page.locator("#sidebar")).toBeInViewport();
    await expectAccessible(user.page, "the phone's drawer");
  });

  test(`${colorScheme}: the pages without JavaScript, and search`, async ({ browser, users }) => {
    // axe is a script itself, so the page keeps JavaScript but never gets
    // its WASM: what it shows is the server's page, as without JavaScript.
    const withoutWasm = async (context: BrowserContext) => {
      await context.route(/\/pkg\/rtca\.js$/, (route) =>
        route.fulfill({ contentType: "text/javascript", body: "export default async function () {}\nexport function hydrate() {}" }),
      );
    };
    const reader = await openPage(browser, { ...options, prepare: withoutWasm });
    users.push(reader);
    await expect(reader.page.getByLabel("Pick a name to join the chat")).toBeVisible();
    await expectAccessible(reader.page, "the chat without JavaScript");
    await reader.page.goto(`${baseUrl()}/search?q=hello`);
    await expectAccessible(reader.page, "search results");
  });
}

test("new messages are read out politely, a burst summed up in one line", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const announcer = alice.page.getByTestId("announcer");
  await expect(announcer).toHaveAttribute("aria-live", "polite");
  // The list itself is not read out: a page of history would be read whole.
  await expect(alice.page.getByTestId("messages")).not.toHaveAttribute("aria-live");
  await send(bob.page, "is anyone there?");
  await expect(announcer).toHaveText(`${bob.name}: is anyone there?`);
  // My own messages are not read back to me.
  await send(alice.page, "I am here");
  await expect(message(alice.page, "I am here")).toHaveCount(1);
  // Past the quiet window after that first line (3 s), a burst: its first
  // message is read as it comes, the rest summed up once.
  await alice.page.waitForTimeout(3_500);
  await expect(announcer).toHaveText(`${bob.name}: is anyone there?`);
  for (let i = 1; i <= 5; i++) await send(bob.page, `burst ${i}`);
  await expect(announcer).toHaveText(`${bob.name}: burst 1`);
  await expect(message(alice.page, "burst 5")).toHaveCount(1);
  await expect(announcer).toHaveText("4 new messages", { timeout: 8_000 });
  // The connection's state is a status too, read when it changes.
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("role", "status");
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`${colorScheme}, in Chinese: the first visit and the lobby`, async ({ browser, users }) => {
    const visitor = await openPage(browser, { colorScheme, locale: "zh-CN" });
    users.push(visitor);
    await expect(visitor.page.getByTestId("connection-status")).toHaveText("已连接");
    await expectAccessible(visitor.page, "first visit, in Chinese");
    visitor.name = uniqueName("访客");
    await visitor.page.getByLabel("起个名字，加入聊天").fill(visitor.name);
    await visitor.page.getByRole("button", { name: "加入", exact: true }).click();
    await expect(visitor.page.getByTestId("me")).toHaveText(visitor.name);
    await send(visitor.page, `大家好，我是${visitor.name}！`);
    await expect(message(visitor.page, `我是${visitor.name}`)).toHaveCount(1);
    await expectAccessible(visitor.page, "the lobby, in Chinese");
  });
}
