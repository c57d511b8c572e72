// Shared helpers: a fresh browser context per chat user, console errors
// collected and asserted empty, and joining the chat under a unique name.
import { test as base, expect, Browser, BrowserContext, Page } from "@playwright/test";

export const baseUrl = () => {
  const url = process.env.RTCA_BASE_URL;
  if (!url) throw new Error("RTCA_BASE_URL is not set (global setup did not run)");
  return url;
};

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 7)}`;
}

export interface ChatUser {
  name: string;
  context: BrowserContext;
  page: Page;
  errors: string[];
}

export interface PageOptions {
  javaScriptEnabled?: boolean;
  url?: string;
  viewport?: { width: number; height: number };
  /** The browser's time zone (an IANA name), instead of the machine's. */
  timezoneId?: string;
  /** What the browser reports for `prefers-color-scheme`. */
  colorScheme?: "light" | "dark";
  /** The browser's language (its `Accept-Language`). */
  locale?: string;
  /** A phone: a mobile viewport with touch. */
  isMobile?: boolean;
  hasTouch?: boolean;
  /** Runs on the new context before the page loads (to route its traffic, say). */
  prepare?: (context: BrowserContext) => Promise<void>;
}

const INCOGNITO_PUSH = "Chrome currently does not support the Push API in incognito mode";

export async function openPage(browser: Browser, options: PageOptions = {}): Promise<ChatUser> {
  const context = await browser.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? true, viewport: options.viewport, timezoneId: options.timezoneId, colorScheme: options.colorScheme, locale: options.locale, isMobile: options.isMobile, hasTouch: options.hasTouch });
  await options.prepare?.(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    // Chromium's own word when the page asks for a push subscription: a
    // Playwright context is incognito, where Chromium has no Push API (and
    // says so, deliberately undetectably). Not the app's error.
    if (message.type() === "error" && !message.text().startsWith(INCOGNITO_PUSH)) errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(options.url ?? baseUrl());
  return { name: "", context, page, errors };
}

/** Opens the chat and joins as `name`; resolves once the socket is connected. */
export async function joinAs(browser: Browser, name: string, options: PageOptions = {}): Promise<ChatUser> {
  const user = await openPage(browser, options);
  user.name = name;
  const { page } = user;
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await page.getByLabel("Pick a name to join the chat").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.getByTestId("me")).toHaveText(name);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  // On a phone the online list is in the drawer, closed until opened.
  if (await page.getByRole("button", { name: "Rooms and people" }).isVisible()) {
    await expect(onlineUser(page, name)).toHaveCount(1);
  } else {
    await expect(onlineUser(page, name)).toBeVisible();
  }
  return user;
}

export function onlineUser(page: Page, name: string) {
  return page.getByTestId("online-users").locator("button.person", { hasText: name });
}

/** Opens the sidebar's "New room" form (it opens on demand). */
export async function openNewRoom(page: Page) {
  const panel = page.locator("details.new-room-panel");
  if (!(await panel.evaluate((details: HTMLDetailsElement) => details.open))) await panel.locator("summary").click();
}

export async function send(page: Page, text: string) {
  const composer = page.getByTestId("composer");
  await composer.fill(text);
  await composer.press("Enter");
}

export function message(page: Page, text: string) {
  return page.getByTestId("messages").locator("[data-testid=message]", { hasText: text });
}

type Fixtures = { users: ChatUser[] };

/** Every ChatUser pushed to `users` is checked for console errors and closed. */
export const test = base.extend<Fixtures>({
  users: async ({}, use) => {
    const users: ChatUser[] = [];
    await use(users);
    for (const user of users) {
      await user.context.close();
    }
    for (const user of users) {
      expect(user.errors, `console errors for ${user.name || "a visitor"}`).toEqual([]);
    }
  },
});

export { expect };
