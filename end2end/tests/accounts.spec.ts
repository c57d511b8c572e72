// Registered accounts in the browser: create one, sign out, sign in again,
// a wrong password in words, the same without JavaScript, a server that
// takes no guests, a third account that cannot read a private conversation,
// and markup in a name that stays text.
import { test, expect, openPage, joinAs, onlineUser, uniqueName, send, message, baseUrl, ChatUser } from "./fixtures";
import { startServer } from "../server";

async function useAccount(user: ChatUser, button: "Sign in" | "Create account", name: string, password: string) {
  const { page } = user;
  if (button === "Create account") {
    // Creating an account is its own form, behind "Create an account".
    const signUp = page.locator("details.sign-up");
    if (!(await signUp.evaluate((details: HTMLDetailsElement) => details.open))) await signUp.locator("summary").click();
    await page.getByLabel("New account name", { exact: true }).fill(name);
    await expect(page.getByLabel("New password", { exact: true })).toHaveAttribute("autocomplete", "new-password");
    await page.getByLabel("New password", { exact: true }).fill(password);
  } else {
    await page.getByLabel("Account name", { exact: true }).fill(name);
    await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("autocomplete", "current-password");
    await page.getByLabel("Password", { exact: true }).fill(password);
  }
  await page.getByRole("button", { name: button }).click();
}

test("create an account, sign out, and sign in again", async ({ browser, users }) => {
  const user = await openPage(browser);
  users.push(user);
  const name = uniqueName("member");
  user.name = name;
  await useAccount(user, "Create account", name, "a long password");
  await expect(user.page.getByTestId("me")).toHaveText(name);
  await expect(user.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
  const text = `posted by the account ${name}`;
  await send(user.page, text);
  await expect(message(user.page, text)).toHaveCount(1);

  await user.page.getByRole("button", { name: "Sign out" }).click();
  await expect(user.page.getByTestId("me")).toHaveCount(0);
  await expect(user.page.getByLabel("Account name", { exact: true })).toBeVisible();

  await useAccount(user, "Sign in", name, "not the password");
  await expect(user.page.getByTestId("account-error")).toHaveText("wrong name or password");
  await useAccount(user, "Sign in", name.toUpperCase(), "a long password");
  await expect(user.page.getByTestId("me")).toHaveText(name);
  await expect(user.page.getByTestId("connection-status")).toHaveAttribute("data-state", "connected");
});

test("without JavaScript an account can be created and used", async ({ browser, users }) => {
  const user = await openPage(browser, { javaScriptEnabled: false });
  users.push(user);
  const name = uniqueName("nojsmember");
  await useAccount(user, "Create account", name, "a long password");
  await expect(user.page.getByTestId("me")).toHaveText(name);
  const text = `no script needed, ${name}`;
  await user.page.getByTestId("composer").fill(text);
  await user.page.getByRole("button", { name: "Send" }).click();
  await expect(message(user.page, text)).toHaveCount(1);
  await user.page.getByRole("button", { name: "Sign out" }).click();
  await expect(user.page.getByLabel("Account name", { exact: true })).toBeVisible();
  // A taken name is refused in words.
  await useAccount(user, "Create account", name, "another long one");
  await expect(user.page.getByTestId("account-error")).toContainText("registered account");
});

test("a server without guests offers accounts only", async ({ browser, users }) => {
  const server = await startServer({ env: { RTCA_ALLOW_GUESTS: "false" } });
  try {
    const user = await openPage(browser, { url: server.url });
    users.push(user);
    await expect(user.page.getByLabel("Account name", { exact: true })).toBeVisible();
    await expect(user.page.getByLabel("Pick a name to join the chat")).toHaveCount(0);
    const name = uniqueName("onlymember");
    await useAccount(user, "Create account", name, "a long password");
    await expect(user.page.getByTestId("me")).toHaveText(name);
    await user.context.close();
  } finally {
    await server.stop();
  }
});

test("a third account cannot read a private conversation, not even by its address", async ({ browser, users }) => {
  const alice = await joinAs(browser, uniqueName("alice"));
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(alice, bob);
  await alice.page.getByTestId("online-users").locator("button.person", { hasText: bob.name }).click();
  const secret = `between ${alice.name} and ${bob.name} only`;
  await send(alice.page, secret);
  await expect(message(alice.page, secret)).toHaveCount(1);
  const bobId = await onlineUser(alice.page, bob.name).getAttribute("data-user-id");
  const aliceId = await onlineUser(bob.page, alice.name).getAttribute("data-user-id");

  const carol = await openPage(browser);
  users.push(carol);
  carol.name = uniqueName("carol");
  await useAccount(carol, "Create account", carol.name, "a long password");
  await expect(carol.page.getByTestId("me")).toHaveText(carol.name);
  for (const id of [bobId, aliceId]) {
    await carol.page.goto(`${baseUrl()}/dm/${id}`);
    await expect(carol.page.getByTestId("conversation-title")).toContainText("Private conversation with");
    await expect(carol.page.locator("body")).not.toContainText(secret);
  }
});

test("markup in a name is shown as text and never runs", async ({ browser, users }) => {
  const name = `<svg onload=window.__p=1>${Math.random().toString(36).slice(2, 5)}`;
  const mallory = await joinAs(browser, name);
  const bob = await joinAs(browser, uniqueName("bob"));
  users.push(mallory, bob);
  await expect(onlineUser(bob.page, name)).toHaveText(new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await send(mallory.page, `hello from ${name}`);
  await expect(message(bob.page, `hello from ${name}`).locator(".from")).toHaveText(name);
  await bob.page.reload();
  await expect(onlineUser(bob.page, name)).toBeVisible();
  for (const user of [mallory, bob]) {
    expect(await user.page.evaluate(() => (window as any).__p)).toBeUndefined();
    await expect(user.page.locator("svg[onload]")).toHaveCount(0);
  }
});
