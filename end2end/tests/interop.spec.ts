// The official socket.io-client from npm against RTCA, over WebSocket and
// over long-polling only: the prototype's own client code works unchanged.
import { test, expect } from "@playwright/test";
import { io, Socket } from "socket.io-client";
import { baseUrl, uniqueName } from "./fixtures";

type Transport = "websocket" | "polling";

/** `session` events, recorded from before the socket connects: the server
 * sends one right after CONNECT, often in the same polling response. */
const sessions = new WeakMap<Socket, any[]>();

function connect(transport: Transport, auth?: Record<string, unknown>): Promise<Socket> {
  const socket = io(baseUrl(), { transports: [transport], auth, reconnection: false, forceNew: true, timeout: 5000, autoConnect: false });
  sessions.set(socket, record(socket, "session"));
  socket.connect();
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => reject(error));
  });
}

function next<T = any>(socket: Socket, event: string, pred: (data: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event`)), 5000);
    const handler = (data: T) => {
      if (pred(data)) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolve(data);
      }
    };
    socket.on(event, handler);
  });
}

/** Everything `socket` receives under `event` from now on. */
function record(socket: Socket, event: string): any[] {
  const seen: any[] = [];
  socket.on(event, (data) => seen.push(data));
  return seen;
}

for (const transport of ["websocket", "polling"] as Transport[]) {
  test.describe(`socket.io-client over ${transport}`, () => {
    const sockets: Socket[] = [];
    test.afterEach(() => {
      for (const socket of sockets.splice(0)) socket.disconnect();
    });
    const open = async (auth?: Record<string, unknown>) => {
      const socket = await connect(transport, auth);
      sockets.push(socket);
      expect(socket.io.engine.transport.name).toBe(transport);
      return socket;
    };

    test("online, presence, message, secret and offline", async () => {
      const [aliceName, bobName, carolName] = [uniqueName("alice"), uniqueName("bob"), uniqueName("carol")];
      const alice = await open();
      const alicePresence = next(alice, "presence", (p: any) => p.users.some((u: any) => u.name === aliceName));
      const aliceAck = await alice.emitWithAck("online", { name: aliceName });
      expect(aliceAck).toMatchObject({ ok: true, user: { name: aliceName } });
      expect(typeof aliceAck.token).toBe("string");
      await alicePresence;

      const bob = await open();
      const bobOnline = next(alice, "online", (e: any) => e.user.name === bobName);
      const bobAck = await bob.emitWithAck("online", { name: bobName });
      expect((await bobOnline).user.id).toBe(bobAck.user.id);

      const carol = await open();
      const carolAck = await carol.emitWithAck("online", carolName); // the prototype's bare-string form
      expect(carolAck.ok).toBe(true);

      const taken = await (await open()).emitWithAck("online", { name: aliceName.toUpperCase() });
      expect(taken).toMatchObject({ ok: false, error: { code: "name_taken" } });

      // A lobby message reaches everyone, the sender included.
      const cid = `cid-${transport}`;
      const arrivals = [alice, bob, carol].map((s) => next(s, "message", (m: any) => m.cid === cid));
      const ack = await alice.emitWithAck("message", { text: `hi over ${transport}`, cid });
      expect(ack).toMatchObject({ ok: true });
      expect(typeof ack.id).toBe("number");
      expect(typeof ack.seq).toBe("number");
      for (const arrival of arrivals) {
        expect(await arrival).toMatchObject({ id: ack.id, seq: ack.seq, room: "lobby", from: { name: aliceName }, text: `hi over ${transport}`, cid });
      }

      // A secret reaches bob and alice, never carol.
      const carolSecrets = record(carol, "secret");
      const toBob = next(bob, "secret");
      const echo = next(alice, "secret");
      const secretAck = await alice.emitWithAck("secret", { to: bobAck.user.id, text: "psst", cid: `s-${transport}` });
      expect(secretAck.ok).toBe(true);
      expect(await toBob).toMatchObject({ from: { name: aliceName }, to: { id: bobAck.user.id }, text: "psst" });
      expect(await echo).toMatchObject({ id: secretAck.id });
      const barrier = next(carol, "message", (m: any) => m.text === "barrier");
      await carol.emitWithAck("message", { text: "barrier" });
      await barrier;
      expect(carolSecrets).toEqual([]);

      expect(await alice.emitWithAck("secret", { to: 987654321, text: "hello?" })).toMatchObject({
        ok: false,
        error: { code: "no_such_user" },
      });

      // `rooms` with no payload at all is the first page; a query narrows it.
      const rooms = await alice.emitWithAck("rooms");
      expect(rooms).toMatchObject({ ok: true, more: false });
      expect(rooms.rooms.map((r: any) => r.name)).toContain("lobby");
      const found = await alice.emitWithAck("rooms", { query: "LOB" });
      expect(found.rooms.map((r: any) => r.name)).toEqual(["lobby"]);

      // Bob leaves: the others hear `offline`.
      const bobOffline = next(alice, "offline", (e: any) => e.user.id === bobAck.user.id);
      bob.disconnect();
      expect((await bobOffline).user.name).toBe(bobName);
    });

    test("a token restores the identity without another online", async () => {
      const name = uniqueName("dora");
      const first = await open();
      const ack = await first.emitWithAck("online", { name });
      first.disconnect();
      const again = await open({ token: ack.token });
      await expect.poll(() => sessions.get(again)!.length).toBe(1);
      expect(sessions.get(again)![0].user).toMatchObject({ id: ack.user.id, name });
      expect(await again.emitWithAck("message", { text: "back again" })).toMatchObject({ ok: true });
      await expect(connect(transport, { token: "not-a-real-token" })).rejects.toThrow(/session/);
    });

    test("edit, react, delete and changes", async () => {
      const [alice, bob] = [await open(), await open()];
      const aliceAck = await alice.emitWithAck("online", { name: uniqueName("alice") });
      const bobAck = await bob.emitWithAck("online", { name: uniqueName("bob") });
      const sent = await alice.emitWithAck("message", { text: `draft over ${transport}` });
      const seen = (await bob.emitWithAck("history", {})).changes;

      const edited = next(bob, "message_changed", (m: any) => m.id === sent.id && m.text === `final over ${transport}`);
      expect(await alice.emitWithAck("edit", { id: sent.id, text: `final over ${transport}` })).toMatchObject({ ok: true, id: sent.id });
      expect(await edited).toMatchObject({ seq: sent.seq, from: { id: aliceAck.user.id }, edited_at: expect.any(Number) });

      const reacted = next(alice, "message_changed", (m: any) => m.id === sent.id && m.reactions?.length === 1);
      expect(await bob.emitWithAck("react", { id: sent.id, emoji: "👍" })).toMatchObject({ ok: true });
      expect((await reacted).reactions).toEqual([{ emoji: "👍", users: [bobAck.user.id], count: 1 }]);
      expect(await bob.emitWithAck("edit", { id: sent.id, text: "mine" })).toMatchObject({ ok: false, error: { code: "not_your_message" } });

      const secret = await alice.emitWithAck("secret", { to: bobAck.user.id, text: "psst" });
      const gone = next(bob, "secret_changed", (m: any) => m.id === secret.id);
      expect(await alice.emitWithAck("delete", { id: secret.id })).toMatchObject({ ok: true });
      expect(await gone).toMatchObject({ deleted: true, text: "" });

      // What changed in the lobby since bob's page, each message once, as it is now.
      const caught = await bob.emitWithAck("changes", { after: seen });
      const mine = caught.messages.filter((m: any) => m.id === sent.id);
      expect(mine).toEqual([expect.objectContaining({ text: `final over ${transport}`, reactions: [{ emoji: "👍", users: [bobAck.user.id], count: 1 }] })]);
      expect(caught).toMatchObject({ ok: true, more: false, secrets: [] });
    });

    test("bad input gets an error, never a crash", async () => {
      const socket = await open();
      expect(await socket.emitWithAck("message", { text: "too early" })).toMatchObject({ ok: false, error: { code: "not_online" } });
      await socket.emitWithAck("online", { name: uniqueName("eve") });
      const cases: [string, unknown, string][] = [
        ["message", { text: "" }, "empty_text"],
        ["message", { text: "x".repeat(4001) }, "text_too_long"],
        ["message", { text: 42 }, "invalid_payload"],
        ["secret", { to: "nobody", text: "x" }, "invalid_payload"],
        ["nonsense", {}, "unknown_event"],
      ];
      for (const [event, data, code] of cases) {
        const reply = await socket.emitWithAck(event, data);
        expect(reply, `${event} ${JSON.stringify(data).slice(0, 40)}`).toMatchObject({ ok: false, error: { code } });
        expect(typeof reply.error.message).toBe("string");
      }
      const error = next(socket, "error");
      socket.emit("nonsense", {});
      expect(await error).toMatchObject({ code: "unknown_event" });
      expect(await socket.emitWithAck("message", { text: "still fine" })).toMatchObject({ ok: true });
    });
  });
}
