// Files in the browser: attach with a progress bar (and cancel), paste,
// drag and drop, a voice message from the microphone, and what others see
// live — an image preview, an audio player that plays, a download card —
// plus clear words when a file is refused. Every file is made here.
import { png, wav, attach, lastMessage, throttleUploads } from "./files";
import { test, expect, joinAs, openPage, message, uniqueName, baseUrl } from "./fixtures";
import { startServer } from "../server";

test("an attached image uploads with progress and shows for everyone live", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const picture = png(900, 600, true);
  await throttleUploads(alice.page, 400 * 1024);
  await attach(alice.page, "sunset.png", "image/png", picture);

  const upload = alice.page.getByTestId("upload");
  await expect(upload).toContainText("sunset.png");
  const bar = upload.locator("progress");
  await expect(bar).toBeVisible();
  await expect.poll(async () => Number(await bar.getAttribute("value")), { message: "the bar moves" }).toBeGreaterThan(0);
  await expect(upload).toHaveCount(0, { timeout: 20_000 });

  for (const page of [alice.page, bob.page]) {
    const preview = lastMessage(page).getByTestId("media-image").locator("img");
    await expect(preview).toBeVisible();
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(900);
    await expect(preview).toHaveAttribute("alt", "sunset.png");
    // It keeps the aspect ratio: 3:2.
    const box = await preview.boundingBox();
    expect(Math.abs(box!.width / box!.height - 1.5)).toBeLessThan(0.05);
  }
  const link = lastMessage(bob.page).getByTestId("media-image");
  const full = await bob.page.request.get(new URL((await link.getAttribute("href"))!, baseUrl()).href);
  expect(full.status()).toBe(200);
  expect(Buffer.compare(await full.body(), picture)).toBe(0);

  // Without JavaScript, the server renders the preview too.
  const reader = await openPage(browser, { javaScriptEnabled: false });
  users.push(reader);
  const rendered = lastMessage(reader.page).getByTestId("media-image").locator("img");
  await expect(rendered).toHaveAttribute("src", /\/media\/[0-9a-f]+\/thumb$/);
  // Its box is reserved before it loads: 3:2, within 22rem.
  await expect(rendered).toHaveAttribute("width", "352");
  await expect(rendered).toHaveAttribute("height", "235");
});

test("a cancelled upload leaves nothing in the chat", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  await throttleUploads(alice.page, 50 * 1024);
  const before = await alice.page.getByTestId("messages").locator("[data-testid=message]").count();
  await attach(alice.page, "slow.png", "image/png", png(600, 600, true));
  const upload = alice.page.getByTestId("upload");
  await expect(upload.locator("progress")).toBeVisible();
  await upload.getByRole("button", { name: "Cancel" }).click();
  await expect(upload).toHaveCount(0);
  await alice.page.waitForTimeout(1000);
  await expect(alice.page.getByTestId("messages").locator("[data-testid=message]")).toHaveCount(before);
  await expect(alice.page.getByTestId("pending")).toHaveCount(0);
});

test("audio arrives as a player that plays, and a PDF as a download card", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  await attach(alice.page, "tone.wav", "audio/wav", wav());
  const player = lastMessage(bob.page).getByTestId("media-audio");
  await expect(player).toBeVisible();
  await expect(lastMessage(bob.page)).toContainText("tone.wav");
  const played = await player.evaluate(async (audio: HTMLAudioElement) => {
    audio.muted = true;
    await audio.play();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { readyState: audio.readyState, currentTime: audio.currentTime, duration: audio.duration };
  });
  expect(played.readyState).toBeGreaterThanOrEqual(2);
  expect(played.currentTime).toBeGreaterThan(0);
  expect(played.duration).toBeCloseTo(1, 1);

  await attach(alice.page, "minutes.pdf", "application/pdf", Buffer.from("%PDF-1.4\n% the minutes\n"));
  const card = lastMessage(bob.page).getByTestId("media-file");
  await expect(card).toContainText("minutes.pdf");
  await expect(card).toContainText("application/pdf");
  await expect(card).toHaveAttribute("download", "minutes.pdf");
});

test("paste an image, or drop files on the conversation", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const image = png(40, 30).toString("base64");

  await alice.page.getByTestId("composer").evaluate((box, data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const clipboard = new DataTransfer();
    clipboard.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
    box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: clipboard, bubbles: true, cancelable: true }));
  }, image);
  await expect(lastMessage(bob.page).getByTestId("media-image")).toHaveAttribute("title", "pasted.png");

  // More files at once than the server takes uploads in parallel: the
  // browser queues them, and every one arrives.
  const dropped = await alice.page.evaluateHandle((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    for (let n = 1; n <= 6; n++) transfer.items.add(new File([bytes], `dropped-${n}.png`, { type: "image/png" }));
    return transfer;
  }, image);
  const zone = alice.page.getByTestId("drop-zone");
  await zone.dispatchEvent("dragover", { dataTransfer: dropped });
  await zone.dispatchEvent("drop", { dataTransfer: dropped });
  const arrived = bob.page.getByTestId("messages").locator("[data-testid=media-image][title^=dropped-]");
  await expect(arrived).toHaveCount(6);
  await expect(alice.page.getByTestId("uploads")).toHaveCount(0);
});

test("a voice message is recorded, previewed and sent", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const voice = alice.page.getByTestId("voice");
  await voice.getByRole("button", { name: "Record a voice message" }).click();
  await expect(voice.getByRole("status")).toHaveText("● Recording");
  await alice.page.waitForTimeout(1500);
  await voice.getByRole("button", { name: "Stop" }).click();
  await expect(voice.getByTestId("voice-preview")).toBeVisible();
  // Slowly, so the tray shows it: named in words, not by its file.
  await throttleUploads(alice.page, 2 * 1024);
  await voice.getByRole("button", { name: "Send voice message" }).click();
  const tray = alice.page.getByTestId("upload");
  await expect(tray).toContainText("Voice message");
  await expect(tray).not.toContainText("voice-message");
  const received = lastMessage(bob.page);
  await expect(received).toContainText("Voice message", { timeout: 30_000 });
  await expect(received.getByTestId("media-audio")).toHaveAttribute("src", /\/media\/[0-9a-f]+$/);
});

test("a file that is too large, or not what it claims, is refused in words", async ({ browser, users }) => {
  const server = await startServer({ env: { RTCA_MAX_UPLOAD_BYTES: "100000" } });
  try {
    const alice = await joinAs(browser, uniqueName("alice"), { url: server.url });
    users.push(alice);
    const huge = png(400, 400, true);
    await attach(alice.page, "huge.png", "image/png", huge);
    const refused = alice.page.getByTestId("upload").getByRole("alert");
    const size = (huge.length / 1000).toFixed(1);
    await expect(refused).toHaveText(`“huge.png” is too large (${size} KB): the limit is 100.0 KB.`);
    await alice.page.getByTestId("upload").getByRole("button", { name: "Dismiss" }).click();

    await attach(alice.page, "cute-cat.png", "image/png", Buffer.from("<!DOCTYPE html><script>alert(1)</script>"));
    await expect(alice.page.getByTestId("upload").getByRole("alert")).toHaveText(
      "“cute-cat.png” was not sent: this kind of file cannot be shared here; send an image, audio, video or PDF.",
    );
    await expect(alice.page.getByTestId("messages").locator("[data-testid=message]")).toHaveCount(0);
    // Chromium logs every 4xx answer to a request as a console error; this
    // one is the refusal the test asked for, and only it may appear.
    const refusal = /the server responded with a status of 415/;
    expect(alice.errors.filter((e) => refusal.test(e))).toHaveLength(1);
    alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !refusal.test(e)));
  } finally {
    await server.stop();
  }
});
