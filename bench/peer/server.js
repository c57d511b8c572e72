// The reference peer: the prototype's stack (Node + socket.io 4.x), with
// RTCA's event contract, so the load generator drives both the same way.
// It keeps nothing on disk, as the prototype did.
"use strict";
const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT ?? 0);
const server = http.createServer((req, res) => {
  res.writeHead(req.url === "/health" ? 200 : 404).end(req.url === "/health" ? "ok" : "");
});
const io = new Server(server, { maxHttpBufferSize: 64 * 1024, pingInterval: 25000, pingTimeout: 20000 });

const users = new Map(); // socket id -> { id, name }
let nextUser = 1;
let nextMessage = 1;

io.on("connection", (socket) => {
  socket.on("online", (payload, ack) => {
    const name = typeof payload === "string" ? payload : payload?.name;
    if (typeof name !== "string" || !name.trim()) {
      if (typeof ack === "function") ack({ ok: false, error: { code: "invalid_name", message: "a name cannot be empty" } });
      return;
    }
    const user = { id: nextUser++, name: name.trim() };
    users.set(socket.id, user);
    if (typeof ack === "function") ack({ ok: true, user, token: "" });
    io.emit("online", { user, at: Date.now() });
    socket.emit("presence", { users: [...users.values()] });
  });
  socket.on("message", (payload, ack) => {
    const from = users.get(socket.id);
    if (!from) {
      if (typeof ack === "function") ack({ ok: false, error: { code: "not_online", message: "say who you are first" } });
      return;
    }
    const room = typeof payload?.room === "string" ? payload.room : "lobby";
    if (room !== "lobby" && !socket.rooms.has(room)) {
      if (typeof ack === "function") ack({ ok: false, error: { code: "not_a_member", message: "join the room first" } });
      return;
    }
    const id = nextMessage++;
    const message = { id, seq: id, room, from, text: String(payload?.text ?? ""), at: Date.now(), cid: payload?.cid ?? null };
    if (typeof ack === "function") ack({ ok: true, id, seq: id, at: message.at });
    (room === "lobby" ? io : io.to(room)).emit("message", message);
  });
  // Rooms as the prototype would have done them: socket.io rooms, nothing
  // stored. Creating and joining are the same here.
  const enter = (name, ack) => {
    if (typeof name !== "string" || !/^[a-z0-9_-]{1,32}$/.test(name)) {
      if (typeof ack === "function") ack({ ok: false, error: { code: "invalid_room_name", message: "bad room name" } });
      return;
    }
    socket.join(name);
    if (typeof ack === "function") ack({ ok: true, name, private: false });
  };
  socket.on("create_room", (payload, ack) => enter(payload?.name, ack));
  socket.on("join_room", (payload, ack) => enter(payload?.room, ack));
  socket.on("disconnect", () => {
    const user = users.get(socket.id);
    users.delete(socket.id);
    if (user) socket.broadcast.emit("offline", { user, at: Date.now() });
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
