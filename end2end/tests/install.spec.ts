// Installable, and open offline: Chromium's own installability check finds
// nothing missing, and once opened, the chat opens again with the network
// down, says it is offline, keeps what is typed, and sends it when the
// network is back.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { test, expect, joinAs, openPage, uniqueName, send, message, onlineUser, baseUrl } from "./fixtures";

test("Chromium finds the app installable", async () => {
  // Chromium never offers to install from an incognito profile, which every
  // Playwright context is: this test has a profile of its own.
  const profile = mkdtempSync(join(tmpdir(), "rtca-install-"));
  const launch = test.info().project.use.launchOptions ?? {};
  const context = await chromium.launchPersistentContext(profile, { executablePath: launch.executablePath, args: launch.args });
  try {
    const page = await context.newPage();
    await page.goto(baseUrl());
    await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
    const manifest = await page.request.get(new URL("/manifest.webmanifest", baseUrl()).href);
    expect(manifest.status()).toBe(200);
    expect((await manifest.json()).display).toBe("standalone");
    const cdp = await context.newCDPSession(page);
    await expect
      .poll(async () => (await cdp.send("Page.getInstallabilityErrors")).installabilityErrors.map((e) => e.errorId), {
        message: "installability errors",
      })
      .toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("the chat opens offline from its last copy, and sends what was typed once back", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  // The worker controls the page once it is active.
  await expect.poll(() => alice.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await alice.page.reload();
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");

  await alice.context.setOffline(true);
  await alice.page.reload();
  await expect(alice.page.getByTestId("me")).toHaveText(alice.name);
  await expect(alice.page.getByTestId("connection-status")).not.toHaveAttribute("data-state", "connected");
  const text = `written offline by ${alice.name}`;
  await send(alice.page, text);
  await expect(alice.page.getByTestId("pending")).toHaveCount(1);
  // The reconnect attempts failed while offline: not errors of the app.
  await alice.context.setOffline(false);
  await expect(message(bob.page, text)).toHaveCount(1, { timeout: 30_000 });
  await expect(alice.page.getByTestId("pending")).toHaveCount(0);
  alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|net::|WebSocket/.test(e)));
});

test("signing out drops the pages kept for offline use: offline, the tab shows nothing private", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const { page } = alice;
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await onlineUser(page, bob.name).click();
  await expect(page).toHaveURL(/\/dm\/\d+$/);
  const secret = `only for ${bob.name}`;
  await send(page, secret);
  await expect(message(page, secret)).toHaveCount(1);
  // A copy of the private conversation's page is kept.
  const privateAddress = page.url();
  await page.reload();
  await expect(message(page, secret)).toHaveCount(1);

  // Signed out from another page: the private one's copy must go too.
  await page.goto(baseUrl());
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByTestId("me")).toHaveCount(0);
  await alice.context.setOffline(true);
  await page.goto(privateAddress);
  await expect(page.getByTestId("me")).toHaveCount(0);
  await expect(page.getByText(secret)).toHaveCount(0);
  await alice.context.setOffline(false);
  alice.errors.splice(0, alice.errors.length, ...alice.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|net::|WebSocket/.test(e)));
});

test("offline, a page never opened here says so in both languages", async ({ browser, users }) => {
  const visitor = await openPage(browser);
  users.push(visitor);
  const { page } = visitor;
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  // No copy of any page: as on a device that only ever installed the app.
  await page.evaluate(async () => Promise.all((await caches.keys()).filter((name) => name.includes("pages")).map((name) => caches.delete(name))));
  await visitor.context.setOffline(true);
  const answer = await page.goto(`${baseUrl()}/r/never-opened-here`);
  expect(answer?.status()).toBe(503);
  await expect(page.getByText("RTCA is offline, and this page was never opened here before.")).toBeVisible();
  await expect(page.locator('p[lang="zh-CN"]')).toHaveText(/RTCA 已离线/);
  await visitor.context.setOffline(false);
  visitor.errors.splice(0, visitor.errors.length, ...visitor.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|net::|WebSocket|503/.test(e)));
});

