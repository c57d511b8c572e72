// Messages show their day: a separator where the day changes ("Today",
// "Yesterday", "Monday 30 November", "30 October 2025"), a `<time
// datetime>` with the full date on hover, and a person's consecutive
// messages grouped under one name. History from other days is made by
// moving stored messages back in time, with the server stopped.
import { execFileSync } from "node:child_process";
import { io } from "socket.io-client";
import { startServer } from "../server";
import { test, expect, openPage, ChatUser } from "./fixtures";

const DAY = 86_400_000;

/** Moves the messages whose text starts with `prefix` back by `days`. */
function age(dbPath: string, prefix: string, days: number) {
  execFileSync("sqlite3", [dbPath, `UPDATE messages SET created_at = created_at - ${days * DAY} WHERE text LIKE '${prefix}%';`]);
}

/** What the separator should say for a day `days` ago, in UTC, by the browser's own calendar. */
function label(days: number): string {
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  const when = new Date(Date.now() - days * DAY);
  const sameYear = when.getUTCFullYear() === new Date().getUTCFullYear();
  const options: Intl.DateTimeFormatOptions = sameYear
    ? { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" }
    : { timeZone: "UTC", day: "numeric", month: "long", year: "numeric" };
  return new Date(when).toLocaleDateString("en-GB", options).replace(",", "");
}

async function checkDays(user: ChatUser) {
  const { page } = user;
  const days = page.getByTestId("messages").getByTestId("day");
  await expect(days).toHaveText([label(400), label(3), label(1), label(0)]);
  const row = (text: string) => page.getByTestId("messages").locator("[data-testid=message]", { hasText: text });
  // Alice's two old messages are one group; Bob breaks it; a new day starts a new one.
  await expect(row("old one")).not.toHaveClass(/continued/);
  await expect(row("old two")).toHaveClass(/continued/);
  await expect(row("old reply")).not.toHaveClass(/continued/);
  await expect(row("old three")).not.toHaveClass(/continued/);
  await expect(row("today one")).not.toHaveClass(/continued/);
  await expect(row("today two")).toHaveClass(/continued/);
  await expect(row("old two").locator(".from")).toBeHidden();
  await expect(row("today one").locator(".from")).toHaveText("alice");
  // The full instant is machine-readable, and the date shows on hover.
  const time = row("old one").locator("time");
  const datetime = await time.getAttribute("datetime");
  expect(datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const year = String(new Date(Date.now() - 400 * DAY).getUTCFullYear());
  expect(datetime!.startsWith(year)).toBe(true);
  await expect(time).toHaveAttribute("title", new RegExp(`^\\w+day \\d+ \\w+ ${year}, \\d\\d:\\d\\d$`));
}

test("day separators, full dates and grouped messages, with and without JavaScript", async ({ browser, users }) => {
  const first = await startServer();
  const alice = io(first.url, { transports: ["websocket"], forceNew: true });
  const bob = io(first.url, { transports: ["websocket"], forceNew: true });
  try {
    await alice.emitWithAck("online", { name: "alice" });
    await bob.emitWithAck("online", { name: "bob" });
    for (const text of ["old one", "old two"]) await alice.emitWithAck("message", { text });
    await bob.emitWithAck("message", { text: "old reply" });
    await alice.emitWithAck("message", { text: "old three" });
    await alice.emitWithAck("message", { text: "earlier this week" });
    await bob.emitWithAck("message", { text: "the day before" });
    for (const text of ["today one", "today two"]) await alice.emitWithAck("message", { text });
  } finally {
    alice.disconnect();
    bob.disconnect();
    await first.stop();
  }
  age(first.dbPath, "old", 400);
  age(first.dbPath, "earlier this week", 3);
  age(first.dbPath, "the day before", 1);

  const server = await startServer({ dbPath: first.dbPath });
  try {
    for (const javaScriptEnabled of [true, false]) {
      const reader = await openPage(browser, { url: server.url, javaScriptEnabled, timezoneId: "UTC" });
      users.push(reader);
      if (javaScriptEnabled) await expect(reader.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
      await checkDays(reader);
    }
  } finally {
    await server.stop();
  }
});
