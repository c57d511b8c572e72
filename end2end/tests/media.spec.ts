// Files in the browser: attach with a progress bar (and cancel), paste,
// drag and drop, a voice message from the microphone, and what others see
// live — an image preview, an audio player that plays, a download card —
// plus clear words when a file is refused. Every file is made here.
import * as zlib from "node:zlib";
import type { Page } from "@playwright/test";
import { test, expect, joinAs, openPage, message, uniqueName, baseUrl } from "./fixtures";
import { startServer } from "../server";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGB PNG; `noisy` makes it big (it barely compresses). */
function png(width: number, height: number, noisy = false): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let seed = 2463534242;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      // xorshift32: noise that deflate cannot shrink.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      raw[at] = noisy ? seed & 0xff : (x * 255) / width;
      raw[at + 1] = noisy ? (seed >> 8) & 0xff : (y * 255) / height;
      raw[at + 2] = 140;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** One second of a 440 Hz tone, 8 kHz mono 16-bit PCM. */
function wav(): Buffer {
  const samples = 8000;
  const out = Buffer.alloc(44 + samples * 2);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write("WAVEfmt ", 8, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(8000, 24);
  out.writeUInt32LE(16000, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(samples * 2, 40);
  for (let n = 0; n < samples; n++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * n) / 8000)), 44 + n * 2);
  return out;
}

function attach(page: Page, name: string, mimeType: string, buffer: Buffer) {
  return page.getByTestId("attach").setInputFiles({ name, mimeType, buffer });
}

function lastMessage(page: Page) {
  return page.getByTestId("messages").locator("[data-testid=message]").last();
}

/** Slows this page's uploads down (Chromium's network throttling), so progress can be watched. */
async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

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
  await expect(rendered).toHaveAttribute("width", "900");
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
  await voice.getByRole("button", { name: "Send voice message" }).click();
  const received = lastMessage(bob.page);
  await expect(received).toContainText("Voice message");
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
