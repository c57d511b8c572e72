// Who is typing shows under the conversation, for the people in it, and
// goes away when the message is sent or the typing stops.
import { io, Socket } from "socket.io-client";
import { test, expect, joinAs, baseUrl, uniqueName, send, message } from "./fixtures";

test("the typing line names who is typing, and goes when they send", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const line = bob.page.getByTestId("typing");
  await expect(line).toHaveText("");
  await alice.page.getByTestId("composer").pressSequentially("hello th");
  await expect(line).toHaveText(`${alice.name} is typing…`);
  // Nobody sees their own typing.
  await expect(alice.page.getByTestId("typing")).toHaveText("");
  const text = `hello there ${bob.name}`;
  await send(alice.page, text);
  await expect(message(bob.page, text)).toHaveCount(1);
  await expect(line).toHaveText("");

  // Two more at once: socket.io clients, as any client may be.
  const others: Socket[] = [];
  try {
    for (const name of [uniqueName("carol"), uniqueName("dave")]) {
      const socket = io(baseUrl(), { transports: ["websocket"], forceNew: true });
      others.push(socket);
      await socket.emitWithAck("online", { name });
    }
    await others[0].emitWithAck("typing", {});
    await expect(line).toHaveText(/ is typing…$/);
    await others[1].emitWithAck("typing", {});
    await expect(line).toHaveText(/ and .* are typing…$/);
    await alice.page.getByTestId("composer").pressSequentially("one more");
    await expect(line).toHaveText("Several people are typing…");
    // In a private conversation, only the other one's typing shows.
    await bob.page.getByTestId("online-users").locator("button.person", { hasText: alice.name }).click();
    await expect(bob.page.getByTestId("conversation-title")).toContainText(alice.name);
    await expect(line).toHaveText("");
    await alice.page.getByTestId("online-users").locator("button.person", { hasText: bob.name }).click();
    await alice.page.getByTestId("composer").pressSequentially("just for you");
    await expect(line).toHaveText(`${alice.name} is typing…`);
  } finally {
    for (const socket of others) socket.disconnect();
  }
});
