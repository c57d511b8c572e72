// Images in the conversation: they open in an in-page viewer that the
// arrow keys step through, Tab stays inside and Esc closes, and a reader at the bottom stays
// there when an image arrives, once it has loaded.
import { io } from "socket.io-client";
import { png, attach, lastMessage } from "./files";
import { startServer } from "../server";
import { test, expect, joinAs, openPage, uniqueName } from "./fixtures";

test("an image opens in the page; arrows go through the conversation's images and Esc closes", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const names = ["first.png", "second.png", "third.png"].map((name) => `${alice.name}-${name}`);
  for (const name of names) {
    await attach(alice.page, name, "image/png", png(240, 160));
    await expect(lastMessage(bob.page).getByTestId("media-image")).toHaveAttribute("title", name);
  }
  const images = bob.page.getByTestId("messages").getByTestId("media-image");
  const second = images.filter({ has: bob.page.locator(`img[alt="${names[1]}"]`) });
  await second.click();
  const viewer = bob.page.getByTestId("image-viewer");
  await expect(viewer).toBeVisible();
  await expect(viewer).toHaveAttribute("aria-label", names[1]);
  await expect(bob.page).toHaveURL(/\/$/); // no navigation, no new tab
  const position = viewer.getByTestId("viewer-position");
  const count = await images.count();
  const at = (await images.evaluateAll((links, title) => links.findIndex((l) => l.getAttribute("title") === title), names[1])) + 1;
  await expect(position).toHaveText(`${at} of ${count}`);
  await expect(viewer.locator("figure img")).toHaveAttribute("src", (await second.getAttribute("href"))!);

  await bob.page.keyboard.press("ArrowRight");
  await expect(viewer).toHaveAttribute("aria-label", names[2]);
  await expect(position).toHaveText(`${at + 1} of ${count}`);
  await bob.page.keyboard.press("ArrowRight");
  await expect(viewer).toHaveAttribute("aria-label", names[2]);
  await bob.page.keyboard.press("ArrowLeft");
  await bob.page.keyboard.press("ArrowLeft");
  await expect(viewer).toHaveAttribute("aria-label", names[0]);
  // A dialog: Tab and Shift+Tab go round its controls, never behind it.
  const focusInViewer = () => bob.page.evaluate(() => !!document.activeElement?.closest("[data-testid=image-viewer]"));
  for (const key of ["Tab", "Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"]) {
    await bob.page.keyboard.press(key);
    expect(await focusInViewer(), `after ${key}`).toBe(true);
  }
  await bob.page.keyboard.press("Escape");
  await expect(viewer).toHaveCount(0);
  // Focus goes back to the image it showed last.
  expect(await bob.page.evaluate(() => document.activeElement?.getAttribute("title"))).toBe(names[0]);

  // A click beside the image closes it too.
  await second.click();
  await expect(viewer).toBeVisible();
  await viewer.click({ position: { x: 5, y: 5 } });
  await expect(viewer).toHaveCount(0);
});

test("a reader at the bottom stays there when an image arrives and loads", async ({ browser, users }) => {
  const server = await startServer({ env: { RTCA_RATE_SEND_CONNECTION: "1000:1000", RTCA_RATE_SEND_USER: "1000:1000" } });
  const writer = io(server.url, { transports: ["websocket"], forceNew: true });
  try {
    const { token } = await writer.emitWithAck("online", { name: "writer" });
    for (let n = 0; n < 40; n++) await writer.emitWithAck("message", { text: `filler ${n}` });
    const reader = await openPage(browser, { url: server.url, viewport: { width: 1000, height: 600 } });
    users.push(reader);
    await expect(reader.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
    const list = reader.page.getByTestId("messages");
    const gap = () => list.evaluate((l) => Math.round(l.scrollHeight - l.scrollTop - l.clientHeight));
    await expect.poll(gap).toBeLessThan(4);

    // Uploaded over HTTP, then sent; the image is tall, so a view that did
    // not reserve its box or follow its load would end far from the bottom.
    const upload = await reader.page.request.post(`${server.url}/api/uploads?name=tall.png`, {
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "image/png" },
      data: png(200, 700),
    });
    expect(upload.status()).toBe(201);
    const media = await upload.json();
    await writer.emitWithAck("message", { text: "", media: media.id });
    const image = lastMessage(reader.page).locator("img");
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await expect.poll(gap).toBeLessThan(4);
    expect(await image.evaluate((img) => img.getBoundingClientRect().height)).toBeGreaterThan(200);
  } finally {
    writer.disconnect();
    await server.stop();
  }
});
