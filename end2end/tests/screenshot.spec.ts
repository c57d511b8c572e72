// Regenerates the README's screenshots (docs/screenshot*.png: desktop and
// phone, light and dark) when UPDATE_SCREENSHOT=1; otherwise writes them to
// test-results/ so the run still proves the views render.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { io } from "socket.io-client";
import { test, expect, joinAs, send, message, openNewRoom } from "./fixtures";
import { startServer } from "../server";

test("screenshot of a conversation", async ({ browser, users }) => {
  // A server of its own, so the picture shows no other test's messages;
  // yesterday's are written first, then moved back a day.
  const first = await startServer();
  const dan = io(first.url, { transports: ["websocket"], forceNew: true });
  await dan.emitWithAck("online", { name: "Dan" });
  await dan.emitWithAck("message", { text: "Release notes are drafted, they're in the wiki." });
  await dan.emitWithAck("message", { text: "Off for today, see you all tomorrow!" });
  dan.disconnect();
  await first.stop();
  execFileSync("sqlite3", [first.dbPath, "UPDATE messages SET created_at = created_at - 86400000;"]);
  const server = await startServer({ dbPath: first.dbPath });
  try {
    const alice = await joinAs(browser, "Alice", { url: server.url, viewport: { width: 1100, height: 620 } });
    const bob = await joinAs(browser, "Bob", { url: server.url });
    const carol = await joinAs(browser, "Carol", { url: server.url });
    users.push(alice, bob, carol);
    for (const [room, isPrivate] of [["design", false], ["release", true]] as const) {
      await openNewRoom(alice.page);
      await alice.page.getByLabel("New room name").fill(room);
      if (isPrivate) await alice.page.getByLabel("Private room", { exact: true }).check();
      await alice.page.getByRole("button", { name: "Create" }).click();
      await expect(alice.page.getByTestId("conversation-title")).toHaveText(`# ${room}`);
    }
    await alice.page.getByTestId("rooms").locator('button[data-room="lobby"]').click();
    await send(carol.page, "Hi both! Who has the release notes?");
    await send(alice.page, "Morning! Is the deploy still on for today?");
    await send(bob.page, "Yes, at 14:00. I'll post in here when it starts.");
    await send(alice.page, "Great, thanks.");
    await send(alice.page, "<b>tags</b> show up as plain text, by the way.");
    await expect(message(alice.page, "plain text")).toBeVisible();
    const target = (name: string) =>
      process.env.UPDATE_SCREENSHOT
        ? path.resolve(__dirname, "..", "..", "docs", name)
        : test.info().outputPath(name);
    await alice.page.screenshot({ animations: "disabled", path: target("screenshot.png") });
    await alice.page.emulateMedia({ colorScheme: "dark" });
    await alice.page.screenshot({ animations: "disabled", path: target("screenshot-dark.png") });
    // Carol on a phone: the sidebar is a drawer, closed.
    await carol.page.setViewportSize({ width: 390, height: 760 });
    await expect(carol.page.getByRole("button", { name: "Rooms and people" })).toBeVisible();
    await expect(message(carol.page, "plain text")).toBeInViewport();
    await carol.page.screenshot({ animations: "disabled", path: target("screenshot-phone.png") });
    await carol.page.emulateMedia({ colorScheme: "dark" });
    await carol.page.screenshot({ animations: "disabled", path: target("screenshot-phone-dark.png") });
    // Carol switches to Chinese, on a desktop again.
    await carol.page.setViewportSize({ width: 1100, height: 620 });
    await carol.page.emulateMedia({ colorScheme: "light" });
    await carol.page.getByRole("group", { name: "Language" }).getByRole("button", { name: "简体中文" }).click();
    await expect(carol.page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(carol.page.getByTestId("connection-status")).toHaveText("已连接");
    await expect(message(carol.page, "plain text")).toBeInViewport();
    await carol.page.screenshot({ animations: "disabled", path: target("screenshot-zh.png") });
    for (const user of users) await user.context.close();
  } finally {
    await server.stop();
  }
});
