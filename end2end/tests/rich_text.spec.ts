// Rich text: a message's Markdown lite renders as markup, the same from the
// server (without JavaScript) as in the live page, since one function
// renders both; raw HTML stays text, and only http(s) addresses are links.
import type { Locator } from "@playwright/test";
import { test, expect, joinAs, openPage, send, message, uniqueName } from "./fixtures";

test("markdown and links render the same with and without JavaScript", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const mark = uniqueName("rich-");
  const text = [
    `**bold** _it_ ~~gone~~ \`x < y\` :tada: ${mark}`,
    "> quoted",
    "- one",
    "- two",
    "see https://example.com/x. but not javascript:alert(1)",
  ].join("\n");
  await send(alice.page, text);

  const check = async (row: Locator) => {
    const body = row.locator(".text");
    await expect(body.locator("strong")).toHaveText("bold");
    await expect(body.locator("em")).toHaveText("it");
    await expect(body.locator("del")).toHaveText("gone");
    await expect(body.locator("code")).toHaveText("x < y");
    await expect(body).toContainText("🎉");
    await expect(body.locator("blockquote")).toHaveText("quoted");
    await expect(body.locator("ul > li")).toHaveText(["one", "two"]);
    const links = body.locator("a");
    await expect(links).toHaveCount(1);
    await expect(links).toHaveAttribute("href", "https://example.com/x");
    await expect(links).toHaveAttribute("rel", "noopener noreferrer nofollow ugc");
    await expect(body).toContainText("javascript:alert(1)");
    // Without the empty comment the live page's renderer leaves as a marker.
    return (await body.innerHTML()).replaceAll("<!---->", "");
  };
  const live = await check(message(alice.page, mark).last());

  const visitor = await openPage(browser, { javaScriptEnabled: false });
  try {
    const rendered = await check(message(visitor.page, mark).last());
    expect(rendered).toBe(live);
  } finally {
    await visitor.context.close();
  }
});

test("markup inside markdown is shown as text and never runs", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const mark = uniqueName("xss-");
  const payload = `**<img src=x onerror="window.__pwned=1">** \`</code><script>window.__pwned=2</script>\` ${mark}`;
  await send(alice.page, payload);
  const body = message(alice.page, mark).last().locator(".text");
  await expect(body.locator("strong")).toHaveText('<img src=x onerror="window.__pwned=1">');
  await expect(body.locator("code")).toHaveText("</code><script>window.__pwned=2</script>");
  await expect(body.locator("img, script")).toHaveCount(0);
  await alice.page.reload();
  await expect(message(alice.page, mark).last().locator(".text strong")).toHaveText('<img src=x onerror="window.__pwned=1">');
  expect(await alice.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});
