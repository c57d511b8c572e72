// How far each person has read is kept by the server: unread counts
// survive a reload and agree across tabs, opening a conversation marks
// where the news starts, and in a private conversation the sender sees
// what the other one has read.
import { Page } from "@playwright/test";
import { test, expect, joinAs, send, message, onlineUser, uniqueName } from "./fixtures";

function badge(page: Page, name: string) {
  return onlineUser(page, name).locator(".badge");
}

async function openWith(page: Page, name: string) {
  await onlineUser(page, name).click();
  await expect(page.getByTestId("conversation-title")).toContainText(name);
}

test("unread counts survive a reload, clear in every tab, and the news is marked", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  // Bob's second tab, in the same browser.
  const second = await bob.context.newPage();
  second.on("console", (m) => m.type() === "error" && bob.errors.push(m.text()));
  await second.goto(bob.page.url());
  await expect(second.getByTestId("me")).toHaveText(bob.name);

  await openWith(alice.page, bob.name);
  const seenBefore = `before ${bob.name}`;
  await send(alice.page, seenBefore);
  await openWith(bob.page, alice.name);
  await expect(message(bob.page, seenBefore)).toHaveCount(1);
  await expect(alice.page.getByTestId("seen")).toHaveCount(1);
  // Back to the lobby: what alice writes now is news.
  await bob.page.goto(new URL("/", bob.page.url()).href);
  const news = [`news one ${bob.name}`, `news two ${bob.name}`];
  for (const text of news) await send(alice.page, text);
  for (const tab of [bob.page, second]) await expect(badge(tab, alice.name)).toHaveText("2");
  // Not yet read: "Seen" stays under the message bob read.
  await expect(message(alice.page, seenBefore).getByTestId("seen")).toHaveCount(1);

  await bob.page.reload();
  await expect(badge(bob.page, alice.name)).toHaveText("2");

  // Reading in one tab clears the other, and the sender sees it read.
  await openWith(bob.page, alice.name);
  await expect(badge(second, alice.name)).toHaveCount(0);
  await expect(message(alice.page, news[1]).getByTestId("seen")).toHaveCount(1);
  await expect(alice.page.getByTestId("seen")).toHaveCount(1);
  // The line sits above the first news, and jumping finds it.
  const line = bob.page.getByTestId("unread-line");
  await expect(line).toHaveCount(1);
  const order = await bob.page.getByTestId("messages").locator("[data-testid=unread-line], [data-testid=message] .text").allTextContents();
  expect(order.slice(-3)).toEqual(["New messages", ...news]);
  await bob.page.getByTestId("jump-unread").click();
  await expect(line).toBeInViewport();
  // Opening it again starts with everything read: no line.
  await bob.page.goto(new URL("/", bob.page.url()).href);
  await openWith(bob.page, alice.name);
  await expect(message(bob.page, news[1])).toHaveCount(1);
  await expect(bob.page.getByTestId("unread-line")).toHaveCount(0);
  await second.close();
});
