// Light, dark, or the system's: the page follows `prefers-color-scheme`
// until the reader picks a theme, which is kept in a cookie and written by
// the server into the first paint (no flash), with or without JavaScript.
import { Page } from "@playwright/test";
import { test, expect, openPage } from "./fixtures";

/** The page's background as the browser paints it. */
function background(page: Page) {
  return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
}

const LIGHT = "rgb(246, 247, 249)";
const DARK = "rgb(17, 21, 28)";

test("the theme follows the system until picked, and a pick is painted first thing after a reload", async ({ browser, users }) => {
  const visitor = await openPage(browser, { colorScheme: "dark" });
  users.push(visitor);
  const { page } = visitor;
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  const themes = page.getByRole("group", { name: "Theme" });
  await expect(themes.getByRole("button", { name: "System" })).toHaveAttribute("aria-pressed", "true");
  expect(await background(page)).toBe(DARK);

  await themes.getByRole("button", { name: "Light" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect(themes.getByRole("button", { name: "Light" })).toHaveAttribute("aria-pressed", "true");
  await expect(themes.getByRole("button", { name: "System" })).toHaveAttribute("aria-pressed", "false");
  expect(await background(page)).toBe(LIGHT);

  // The server's page already says so: the first paint is light, before any script.
  const response = await page.reload();
  expect(await response!.text()).toContain('<html lang="en" data-theme="light"');
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  await expect(themes.getByRole("button", { name: "Light" })).toHaveAttribute("aria-pressed", "true");
  expect(await background(page)).toBe(LIGHT);

  // Back to the system's: the cookie goes, and the page is dark again.
  await themes.getByRole("button", { name: "System" }).click();
  await expect(page.locator("html")).not.toHaveAttribute("data-theme");
  expect(await background(page)).toBe(DARK);
  expect((await visitor.context.cookies()).map((cookie) => cookie.name)).not.toContain("rtca_theme");
  const again = await page.reload();
  expect(await again!.text()).toContain('<html lang="en">');
});

test("without JavaScript the switch is a form, and the search page follows it too", async ({ browser, users }) => {
  const reader = await openPage(browser, { colorScheme: "light", javaScriptEnabled: false });
  users.push(reader);
  const { page } = reader;
  await page.getByRole("group", { name: "Theme" }).getByRole("button", { name: "Dark" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByRole("group", { name: "Theme" }).getByRole("button", { name: "Dark" })).toHaveAttribute("aria-pressed", "true");
  expect(new URL(page.url()).pathname).toBe("/");
  await page.goto(new URL("/search?q=anything", page.url()).href);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
});
