// Search: from the box in the top bar to a page of hits, and from a hit to
// the message in its conversation; the same without JavaScript.
import { test, expect, joinAs, openPage, send, message, uniqueName, baseUrl } from "./fixtures";

test("a search from the box lists the hits, and a hit opens its message", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  users.push(alice);
  const word = uniqueName("kumquat");
  const text = `the ${word} tree, 你好世界 <b>not bold</b>`;
  await send(alice.page, text);
  await expect(message(alice.page, text)).toHaveCount(1);

  await alice.page.getByTestId("search-input").fill(word.toUpperCase());
  await alice.page.getByTestId("search-input").press("Enter");
  await expect(alice.page).toHaveURL(/\/search\?q=/);
  const hit = alice.page.getByTestId("search-hit");
  await expect(hit).toHaveCount(1);
  await expect(hit.locator("mark")).toHaveText(word);
  await expect(hit).toContainText("<b>not bold</b>");
  await expect(hit.locator("b")).toHaveCount(0);

  // Chinese inside a longer run of it.
  await alice.page.getByTestId("search-input").fill(`好世 ${word}`);
  await alice.page.getByTestId("search-input").press("Enter");
  await expect(hit.locator("mark").first()).toHaveText(word);
  await expect(hit.locator("mark").nth(1)).toHaveText("好世");

  await hit.getByRole("link").click();
  await expect(message(alice.page, text)).toBeInViewport();
  await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
});

test("without JavaScript the search page works, and finds nothing private", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  const word = uniqueName("quince");
  await send(alice.page, `public ${word}`);
  await expect(message(bob.page, `public ${word}`)).toHaveCount(1);
  // A private message between the two: never found by a visitor.
  await alice.page.getByTestId("online-users").locator("button.person", { hasText: bob.name }).click();
  await send(alice.page, `private ${word}`);
  await expect(message(alice.page, `private ${word}`)).toHaveCount(1);

  const plain = await openPage(browser, { javaScriptEnabled: false, url: `${baseUrl()}/search` });
  users.push(plain);
  await plain.page.getByTestId("search-input").fill(word);
  await plain.page.getByRole("button", { name: "Search" }).click();
  const hit = plain.page.getByTestId("search-hit");
  await expect(hit).toHaveCount(1);
  await expect(hit).toContainText(`public ${word}`);
  await hit.getByRole("link").click();
  await expect(message(plain.page, `public ${word}`)).toBeVisible();

  // The one who wrote it finds both.
  await alice.page.goto(`${baseUrl()}/search?q=${word}`);
  await expect(alice.page.getByTestId("search-hit")).toHaveCount(2);
  await expect(alice.page.getByTestId("search-hit").first()).toContainText(`with ${bob.name}`);
});
