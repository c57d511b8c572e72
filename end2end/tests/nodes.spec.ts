// Two nodes behind deploy/haproxy.cfg, on one PostgreSQL and one Redis:
// two browsers, each kept on a different node by the proxy's cookie, chat
// live; one node is stopped, its browser reconnects through the proxy to
// the other, and the chat goes on.
import { test, expect, joinAs, send, message, onlineUser, uniqueName, ChatUser } from "./fixtures";
import { startServer, RunningServer } from "../server";
import { startHaproxy, startPostgres, startRedis } from "../services";

type Service = { stop(): Promise<void> };
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

test("two browsers on two nodes chat live, and go on when one node stops", async ({ browser, users }) => {
  test.setTimeout(120_000);
  const services: Service[] = [];
  const nodes: RunningServer[] = [];
  try {
    const postgres = await startPostgres();
    services.push(postgres);
    const redis = await startRedis();
    services.push(redis);
    const media = fs.mkdtempSync(path.join(os.tmpdir(), "rtca-e2e-media-"));
    const env = { RTCA_DATABASE_URL: postgres.newDatabase(), RTCA_REDIS_URL: redis.url, RTCA_MEDIA_DIR: media };
    for (let n = 0; n < 2; n++) nodes.push(await startServer({ env }));
    for (const node of nodes) await expect.poll(async () => (await fetch(`${node.url}/readyz`)).status).toBe(200);
    const proxy = await startHaproxy(`127.0.0.1:${nodes[0].port}`, `127.0.0.1:${nodes[1].port}`);
    services.unshift(proxy);

    // Round-robin puts each new browser on the next node; the cookie keeps it there.
    const nodeOf = async (user: ChatUser) => (await user.context.cookies()).find((c) => c.name === "rtca_node")?.value;
    const alice = await joinAs(browser, uniqueName("alice"), { url: proxy.url });
    users.push(alice);
    const bob = await joinAs(browser, uniqueName("bob"), { url: proxy.url });
    users.push(bob);
    const [aliceNode, bobNode] = [await nodeOf(alice), await nodeOf(bob)];
    expect(aliceNode).toBeTruthy();
    expect(bobNode).toBeTruthy();
    expect(aliceNode, "both browsers landed on one node").not.toBe(bobNode);

    // Live, both ways, and each sees the other online.
    await expect(onlineUser(alice.page, bob.name)).toBeVisible();
    await expect(onlineUser(bob.page, alice.name)).toBeVisible();
    await send(alice.page, `hello from ${aliceNode}`);
    await expect(message(bob.page, `hello from ${aliceNode}`)).toBeVisible();
    await send(bob.page, `hello from ${bobNode}`);
    await expect(message(alice.page, `hello from ${bobNode}`)).toBeVisible();

    // Bob's node stops. His page reconnects, through the proxy, to Alice's.
    const bobsNode = nodes[bobNode === "node1" ? 0 : 1];
    const status = bob.page.getByTestId("connection-status");
    await bobsNode.stop();
    // Reconnected when the proxy has moved him (its cookie names the other node).
    await expect.poll(() => nodeOf(bob), { timeout: 30_000, message: "the proxy kept bob on the stopped node" }).toBe(aliceNode);
    await expect(status).toHaveAttribute("data-state", "connected", { timeout: 30_000 });
    await send(bob.page, "still here after my node stopped");
    await expect(message(alice.page, "still here after my node stopped")).toBeVisible();
    await send(alice.page, "and I still hear you");
    await expect(message(bob.page, "and I still hear you")).toBeVisible();
    // Nothing from before is lost or doubled on Bob's page.
    await expect(message(bob.page, `hello from ${aliceNode}`)).toHaveCount(1);
    await expect(message(bob.page, "still here after my node stopped")).toHaveCount(1);

    // Close the pages before the rest goes, so they stop reconnecting;
    // the failed attempts while bob's node went away are expected.
    for (const user of [alice, bob]) {
      await user.context.close();
      user.errors.splice(0, user.errors.length, ...user.errors.filter((e) => !/WebSocket connection to .* failed/.test(e)));
    }
  } finally {
    for (const node of nodes) await node.stop();
    for (const service of services) await service.stop();
  }
});
