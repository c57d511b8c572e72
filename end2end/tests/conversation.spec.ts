// The conversation view follows the conversation as people expect: it stays
// at the newest message while the reader is there, stays put (with a pill
// counting what came) when they scrolled up, opens a conversation at its
// newest message, and keeps the reader's place when earlier messages load.
import { io, Socket } from "socket.io-client";
import { startServer, RunningServer } from "../server";
import { test, expect, openPage, ChatUser } from "./fixtures";

const quick = { RTCA_RATE_SEND_CONNECTION: "1000:1000", RTCA_RATE_SEND_USER: "1000:1000", RTCA_RATE_PUBLIC_ROOMS: "1000:1000" };

/** A server whose lobby holds 80 messages and whose room `long` holds 40, written by `writer`. */
async function longHistory(): Promise<{ server: RunningServer; writer: Socket }> {
  const server = await startServer({ env: quick });
  const writer = io(server.url, { transports: ["websocket"], forceNew: true });
  await writer.emitWithAck("online", { name: "writer" });
  await writer.emitWithAck("create_room", { name: "long" });
  for (let n = 0; n < 80; n++) await writer.emitWithAck("message", { text: `old ${n}` });
  for (let n = 0; n < 40; n++) await writer.emitWithAck("message", { room: "long", text: `long ${n}` });
  return { server, writer };
}

async function reader(browser: import("@playwright/test").Browser, server: RunningServer): Promise<ChatUser> {
  const user = await openPage(browser, { url: server.url, viewport: { width: 1000, height: 600 } });
  await expect(user.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  return user;
}

/** How far the message list is from its bottom, in pixels. */
function gap(user: ChatUser) {
  return user.page.getByTestId("messages").evaluate((list) => Math.round(list.scrollHeight - list.scrollTop - list.clientHeight));
}

test("the view follows new messages, and a reader who scrolled up gets a pill instead", async ({ browser, users }) => {
  const { server, writer } = await longHistory();
  try {
    const alice = await reader(browser, server);
    users.push(alice);
    expect(await gap(alice)).toBeLessThan(4);
    for (let n = 0; n < 6; n++) {
      await writer.emitWithAck("message", { text: `live ${n}` });
      await expect(alice.page.getByText(`live ${n}`, { exact: true })).toHaveCount(1);
      await expect.poll(() => gap(alice), { message: `after live ${n}` }).toBeLessThan(4);
    }
    const pill = alice.page.getByTestId("new-messages");
    await expect(pill).toBeHidden();

    // Scrolled up, the reader stays where they are.
    const messages = alice.page.getByTestId("messages");
    await messages.evaluate((list) => list.scrollTo(0, 100));
    await expect.poll(() => messages.evaluate((list) => list.scrollTop)).toBe(100);
    for (let n = 0; n < 3; n++) await writer.emitWithAck("message", { text: `while away ${n}` });
    await expect(pill).toHaveText("3 new messages ↓");
    expect(await messages.evaluate((list) => list.scrollTop)).toBe(100);
    await pill.click();
    await expect.poll(() => gap(alice)).toBeLessThan(4);
    await expect(pill).toBeHidden();
  } finally {
    writer.disconnect();
    await server.stop();
  }
});

test("a conversation opens at its newest message, and loading earlier ones keeps the reader's place", async ({ browser, users }) => {
  const { server, writer } = await longHistory();
  try {
    const alice = await reader(browser, server);
    users.push(alice);
    await alice.page.getByTestId("rooms").locator('button[data-room="long"]').click();
    await expect(alice.page.getByText("long 39", { exact: true })).toHaveCount(1);
    await expect.poll(() => gap(alice)).toBeLessThan(4);

    // Back in the lobby (80 messages, 50 loaded), at the top: the oldest
    // loaded message stays where it is on screen when the page before it comes.
    await alice.page.getByTestId("rooms").locator('button[data-room="lobby"]').click();
    await expect.poll(() => gap(alice)).toBeLessThan(4);
    const messages = alice.page.getByTestId("messages");
    await messages.evaluate((list) => list.scrollTo(0, 0));
    const anchor = alice.page.getByText("old 30", { exact: true });
    const top = async () => (await anchor.boundingBox())!.y;
    const before = await top();
    await alice.page.getByRole("button", { name: "Load earlier messages" }).click();
    await expect(alice.page.getByText("old 0", { exact: true })).toHaveCount(1);
    await expect.poll(async () => Math.abs((await top()) - before)).toBeLessThan(4);
  } finally {
    writer.disconnect();
    await server.stop();
  }
});
