// Chinese and English: the server's first paint is in the reader's language
// (from Accept-Language), the switcher changes it and remembers it in a
// cookie, with or without JavaScript, and hydration agrees with the
// server's words (no console error).
import { test, expect, openPage, joinAs, uniqueName, message } from "./fixtures";

test("a Chinese browser gets the chat in Chinese from the first byte, and can join in it", async ({ browser, users }) => {
  const reader = await openPage(browser, { locale: "zh-CN" });
  users.push(reader);
  const { page } = reader;
  const html = await (await page.request.get(page.url(), { headers: { "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8" } })).text();
  expect(html).toContain('<html lang="zh-CN"');
  expect(html).toContain("起个名字，加入聊天");
  expect(html).not.toContain("Pick a name to join the chat");

  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByTestId("connection-status")).toHaveText("已连接");
  const name = uniqueName("读者");
  reader.name = name;
  await page.getByLabel("起个名字，加入聊天").fill(name);
  await page.getByRole("button", { name: "加入", exact: true }).click();
  await expect(page.getByTestId("me")).toHaveText(name);
  await expect(page.getByTestId("composer")).toHaveAttribute("placeholder", "发消息到 #lobby");
  await expect(page.getByRole("button", { name: "发送" })).toBeVisible();
  await expect(page.getByRole("group", { name: "主题" }).getByRole("button", { name: "跟随系统" })).toHaveAttribute("aria-pressed", "true");

  // A message of mine: the day, its menu and a tombstone, in Chinese.
  const text = `你好，${name}`;
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("composer").press("Enter");
  const mine = message(page, text);
  await expect(mine).toHaveCount(1);
  await expect(page.getByTestId("messages").locator(".day").last()).toContainText("今天");
  await mine.hover();
  await mine.getByRole("button", { name: "消息操作" }).or(mine.locator("summary[aria-label='消息操作']")).click();
  await mine.getByText("删除…").click();
  await mine.getByRole("button", { name: "为所有人删除" }).click();
  await expect(page.getByTestId("messages").getByTestId("tombstone").last()).toHaveText("消息已删除");
});

for (const javaScriptEnabled of [true, false]) {
  test(`the switcher changes the language and remembers it${javaScriptEnabled ? "" : ", without JavaScript"}`, async ({ browser, users }) => {
    const reader = await openPage(browser, { locale: "zh-CN", javaScriptEnabled });
    users.push(reader);
    const { page } = reader;
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    const languages = page.getByRole("group", { name: "语言" });
    await expect(languages.getByRole("button", { name: "简体中文" })).toHaveAttribute("aria-pressed", "true");

    await languages.getByRole("button", { name: "English" }).click();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.getByLabel("Pick a name to join the chat")).toBeVisible();
    await expect(page.getByRole("group", { name: "Language" }).getByRole("button", { name: "English" })).toHaveAttribute("aria-pressed", "true");
    expect(new URL(page.url()).pathname).toBe("/");
    // Kept: the browser still asks for Chinese, the cookie says English.
    await page.reload();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    expect((await reader.context.cookies()).find((cookie) => cookie.name === "rtca_lang")?.value).toBe("en");

    await page.getByRole("group", { name: "Language" }).getByRole("button", { name: "简体中文" }).click();
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(page.getByLabel("起个名字，加入聊天")).toBeVisible();
  });
}

test("refusals are shown in the reader's language, from a form post and from the socket", async ({ browser, users }) => {
  const host = await joinAs(browser, uniqueName("host"));
  users.push(host);
  const reader = await openPage(browser, { locale: "zh-CN" });
  users.push(reader);
  const { page } = reader;
  await expect(page.getByTestId("connection-status")).toHaveText("已连接");
  // The socket's ack: the name is taken.
  await page.getByLabel("起个名字，加入聊天").fill(host.name);
  await page.getByRole("button", { name: "加入", exact: true }).click();
  await expect(page.getByTestId("join-error")).toHaveText("这个名字（或与它几乎一样的名字）已经有人用了，请换一个。");
  // A plain form post: a wrong password.
  await page.getByLabel("账号名", { exact: true }).fill(uniqueName("nobody"));
  await page.getByLabel("密码", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByTestId("account-error")).toHaveText("账号名或密码错误。");
});
