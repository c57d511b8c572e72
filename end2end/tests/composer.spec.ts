// The composer as people expect it: it grows with its text, then scrolls,
// and a file carries a caption, whether the text was typed before the file
// was picked or sent while it was still uploading; what is typed and not
// sent waits in its own conversation, through reloads.
import { png, attach, lastMessage, throttleUploads } from "./files";
import { test, expect, joinAs, uniqueName, openNewRoom, message } from "./fixtures";

test("the composer grows with its text up to a few lines, then scrolls, and shrinks once sent", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const composer = alice.page.getByTestId("composer");
  const height = () => composer.evaluate((box) => box.getBoundingClientRect().height);
  const one = await height();
  await composer.click();
  await composer.pressSequentially("first line");
  for (const line of ["second", "third"]) {
    await composer.press("Shift+Enter");
    await composer.pressSequentially(line);
  }
  const three = await height();
  expect(three).toBeGreaterThan(one * 1.8);
  for (let n = 0; n < 20; n++) {
    await composer.press("Shift+Enter");
    await composer.pressSequentially(`line ${n}`);
  }
  const many = await height();
  expect(many).toBeGreaterThan(three);
  expect(many).toBeLessThan(260);
  expect(await composer.evaluate((box) => box.scrollHeight > box.clientHeight)).toBe(true);
  await composer.press("Enter");
  await expect(lastMessage(alice.page)).toContainText("line 19");
  await expect.poll(height).toBeLessThan(one + 2);
});

test("a file carries a caption: the text typed before picking it, or sent while it uploads", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const composer = alice.page.getByTestId("composer");

  // Typed first, then the file: one message with both.
  await composer.fill("the view from the top");
  await attach(alice.page, "summit.png", "image/png", png(300, 200));
  await expect(composer).toHaveValue("");
  for (const page of [alice.page, bob.page]) {
    const last = lastMessage(page);
    await expect(last).toContainText("the view from the top");
    await expect(last.getByTestId("media-image")).toHaveAttribute("title", "summit.png");
    // The file's name shows under the image, not only in a tooltip.
    await expect(last.locator("figcaption")).toHaveText("summit.png");
  }

  // The file first, the text sent while it still uploads: one message too.
  await throttleUploads(alice.page, 200 * 1024);
  await attach(alice.page, "valley.png", "image/png", png(600, 400, true));
  await expect(alice.page.getByTestId("upload")).toContainText("valley.png");
  await composer.fill("and the valley below");
  await composer.press("Enter");
  await expect(alice.page.getByTestId("upload-caption")).toHaveText("and the valley below");
  await expect(composer).toHaveValue("");
  await expect(alice.page.getByTestId("upload")).toHaveCount(0, { timeout: 20_000 });
  const last = lastMessage(bob.page);
  await expect(last.getByTestId("media-image")).toHaveAttribute("title", "valley.png");
  await expect(last).toContainText("and the valley below");
  await expect(bob.page.getByTestId("messages").getByText("and the valley below")).toHaveCount(1);
});

test("each conversation keeps its draft, through a reload and a language switch, and only for whoever typed it", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const { page } = alice;
  const composer = page.getByTestId("composer");
  const room = uniqueName("drafts");
  await composer.fill("half a thought for the lobby");
  await openNewRoom(page);
  await page.getByLabel("New room name").fill(room);
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("conversation-title")).toHaveText(`# ${room}`);
  await expect(composer).toHaveValue("");
  await composer.fill(`for #${room}`);

  const rooms = page.getByTestId("rooms");
  await rooms.locator('button[data-room="lobby"]').click();
  await expect(composer).toHaveValue("half a thought for the lobby");
  await rooms.locator(`button[data-room="${room}"]`).click();
  await expect(composer).toHaveValue(`for #${room}`);

  // A reload gives both back.
  await page.reload();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(composer).toHaveValue(`for #${room}`);
  await rooms.locator('button[data-room="lobby"]').click();
  await expect(composer).toHaveValue("half a thought for the lobby");

  // So does the language switch, which renders the page again in Chinese.
  await page.getByRole("group", { name: "Language" }).getByRole("button", { name: "简体中文" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(composer).toHaveValue("half a thought for the lobby");

  // Sent, it is gone; and a draft is never handed to someone else who
  // signs in in the same tab.
  await composer.press("Enter");
  await expect(message(page, "half a thought for the lobby")).toHaveCount(1);
  await expect(composer).toHaveValue("");
  await page.reload();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(composer).toHaveValue("");
  const kept = await page.evaluate(() => sessionStorage.getItem("rtca-drafts"));
  expect(kept).toContain(`for #${room}`);
  const otherId = 1 + Number(JSON.parse(kept!)[0]);
  await page.evaluate((json) => sessionStorage.setItem("rtca-drafts", json), JSON.stringify([String(otherId), "r:lobby", "not yours"]));
  await page.reload();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(composer).toHaveValue("");
  expect(await page.evaluate(() => sessionStorage.getItem("rtca-drafts"))).toBeNull();
});
