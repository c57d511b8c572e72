//! Glue between the socket client and the chat's signals: starts the
//! connection once the page has hydrated, routes every event into
//! [`ChatState::apply`], and sends what the composer hands it.

use std::cell::{Cell, RefCell};

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::address;
use super::resume::{fill_gap, page_of, resume};
use super::socket::{SocketClient, SocketEvent};
use crate::chat_state::{ChatState, ConnStatus, Conversation, LocalClock, Outgoing};
use crate::engine_io::RawPayload;
use crate::error::{code, ApiError};
use crate::i18n::error_message;
use crate::protocol::{
    check_reply, event, next_rooms_after, parse_reply, read_reply_body, validate_name, ConversationId,
    CreateRoomRequest, HistoryPage, HistoryRequest, InviteRequest, MessageAck, MessageRequest, Notify, NotifyRequest,
    NotifySetting, OnlineAck, OnlineRequest, ReadRequest, RoomInfo, RoomList, RoomMembers, RoomRequest, RoomsRequest,
    SecretRequest, TypingRequest, UserId, ADOPT_SESSION_PATH, MAX_HISTORY_PAGE, TYPING_EVERY_MS,
};

thread_local! {
    // The browser runs one thread; this is the page's one connection.
    static CLIENT: RefCell<Option<SocketClient>> = const { RefCell::new(None) };
}

/// The browser's offset from UTC and its clock, for times and days.
fn read_clock(chat: ChatState) {
    let now = js_sys::Date::new_0();
    let offset_minutes = -(now.get_timezone_offset() as i32);
    let clock = LocalClock { offset_minutes, now_ms: now.get_time() as i64 };
    chat.now.set(clock.now_ms);
    // Only when the day or offset changes: every message's layout reads it.
    if chat
        .clock
        .with_untracked(|old| old.offset_minutes != offset_minutes || old.day(old.now_ms) != clock.day(clock.now_ms))
    {
        chat.clock.set(clock);
    }
}

fn client() -> Option<SocketClient> {
    CLIENT.with(|c| c.borrow().clone())
}

/// The connection, or the error to show while it is not started yet.
fn connected_client() -> Result<SocketClient, ApiError> {
    client().ok_or_else(|| ApiError::new(code::DISCONNECTED, "Still connecting. Try again in a moment."))
}

/// Connects and wires events into `chat`. Called once, after hydration.
pub fn start(chat: ChatState) {
    if client().is_some() {
        return;
    }
    // What only a live page can do (replying) shows from now on.
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-live", "");
    }
    super::keyboard::follow_visual_viewport();
    super::service_worker::register();
    super::attention::follow(chat);
    super::drafts::follow(chat);
    super::notifications::follow();
    super::push::follow(chat);
    read_clock(chat);
    // "5 minutes ago" moves on, and "Today" at midnight, for a tab left open.
    let _ = set_interval_with_handle(move || read_clock(chat), std::time::Duration::from_secs(30));

    let socket = SocketClient::start(move |happening| match happening {
        SocketEvent::Status(status) => chat.status.set(status),
        SocketEvent::Event { name, data } => {
            if let Some(gap) = chat.apply(&name, data.get()) {
                leptos::task::spawn_local(fill_gap(chat, gap));
            }
            super::notifications::consider(chat, &name, data.get());
        }
        SocketEvent::Connected { .. } => {
            chat.reconnected();
            flush_outbox(chat);
            super::changes::flush(chat);
            // (Again after a reconnect: the first try may have come before.)
            super::push::subscribe(chat);
            // The first connection too: the page was rendered a moment
            // before the socket joined, and messages may have come between.
            leptos::task::spawn_local(resume(chat));
        }
    });
    CLIENT.with(|c| *c.borrow_mut() = Some(socket));
    watch_network(chat);
    // A link to one message (a search hit): go to it once the page has
    // followed the conversation to its newest, loading earlier pages.
    if let Some((id, seq)) = address::asked_message() {
        leptos::task::spawn_local(async move {
            TimeoutFuture::new(100).await;
            jump_to(chat, id, seq).await;
        });
    }
    // The server may have shown something other than the address asked for
    // (the lobby, for a room that is not there): say where we are.
    address::show(&chat.active.get_untracked());
    address::follow_back_and_forward(chat);
}

/// Loads every reply of the thread of `root` in the conversation on
/// screen (they are its messages: they join what I hold of it).
pub async fn load_thread(chat: ChatState, root: i64) {
    let Some(id) = chat.active.with_untracked(|active| active.id(chat.me_id())) else { return };
    let Some(request) = page_of(chat, &id) else { return };
    let mut after = 0;
    for _ in 0..4 {
        let ask_for =
            HistoryRequest { thread: Some(root), after: Some(after), limit: Some(MAX_HISTORY_PAGE), ..request.clone() };
        match history(ask_for).await {
            Ok(page) => {
                let more = page.more;
                let replies = page.into_messages();
                after = replies.last().map_or(after, |m| m.seq);
                chat.merge_page(&id, replies);
                if !more {
                    return;
                }
            }
            Err(error) => return chat.notice.set(Some(error.message)),
        }
    }
}

/// Shows the message `id` (at `seq`) of the conversation on screen:
/// loads earlier pages until it is there (a few at most), then scrolls to
/// it and lights it up a moment.
pub async fn jump_to(chat: ChatState, id: i64, seq: i64) {
    let conversation = chat.active.get_untracked();
    let Some(key) = conversation.id(chat.me_id()) else { return };
    for _ in 0..20 {
        let first = chat.messages.with_untracked(|all| all.get(&key).and_then(|list| list.first()).map(|m| m.seq));
        match first {
            Some(first) if first > seq => load_earlier(chat, conversation.clone(), first).await,
            _ => break,
        }
    }
    // After the page drew what came.
    TimeoutFuture::new(0).await;
    let document = web_sys::window().and_then(|w| w.document());
    let Some(row) = document.and_then(|d| d.get_element_by_id(&format!("m-{id}"))) else { return };
    row.scroll_into_view();
    let _ = row.class_list().add_1("flash");
    TimeoutFuture::new(1500).await;
    let _ = row.class_list().remove_1("flash");
}

/// Says how far I have read the conversation on screen, if it moved on
/// and the tab is seen: the server tells my other tabs, and in a private
/// conversation the other one ("Seen").
/// At most one `read` per this many ms from a tab: in a busy room every
/// reader would otherwise write its place for every message.
const READ_EVERY_MS: u32 = 2_000;

thread_local! {
    /// A turn of saying what I read is running (sending, or waiting out
    /// `READ_EVERY_MS` after it).
    static READ_TURN: Cell<bool> = const { Cell::new(false) };
    /// Something may have been read since the running turn looked.
    static READ_WANTED: Cell<bool> = const { Cell::new(false) };
}

pub fn mark_read(chat: ChatState) {
    READ_WANTED.with(|wanted| wanted.set(true));
    if READ_TURN.with(|turn| turn.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        while READ_WANTED.with(|wanted| wanted.replace(false)) {
            let visible = !web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
            let Some((id, seq)) = chat.take_unread_seq(visible) else { continue };
            let request = page_of(chat, &id).map(|page| ReadRequest { room: page.room, with: page.with, seq });
            if let Some(Ok(request)) = request.map(|request| payload(&request)) {
                let _ = ask_until_accepted(event::READ, request).await;
            }
            // What is read meanwhile waits for the next turn.
            TimeoutFuture::new(READ_EVERY_MS).await;
        }
        READ_TURN.with(|turn| turn.set(false));
    });
}

/// Follows the browser's own idea of the network: say "offline" at once,
/// and retry at once when it comes back rather than waiting out a backoff.
fn watch_network(chat: ChatState) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let went_offline = Closure::<dyn Fn()>::new(move || chat.status.set(ConnStatus::Offline));
    let came_online = Closure::<dyn Fn()>::new(reconnect);
    // A tab seen again has read what came while it was hidden.
    let shown = Closure::<dyn Fn()>::new(move || mark_read(chat));
    let _ = window.add_event_listener_with_callback("offline", went_offline.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("online", came_online.as_ref().unchecked_ref());
    if let Some(document) = window.document() {
        let _ = document.add_event_listener_with_callback("visibilitychange", shown.as_ref().unchecked_ref());
    }
    // The listeners live as long as the page.
    went_offline.forget();
    came_online.forget();
    shown.forget();
}

/// Reconnects now, e.g. so a new session cookie takes effect.
pub fn reconnect() {
    if let Some(socket) = client() {
        socket.reconnect();
    }
}

/// Goes `online` as `name` over the socket, then has the server set the
/// session cookie so a reload keeps the identity.
pub async fn go_online(chat: ChatState, name: String) -> Result<(), ApiError> {
    let name = validate_name(&name).map_err(|problem| in_readers_words(problem.into()))?.to_owned();
    let socket = connected_client().map_err(in_readers_words)?;
    let reply = socket
        .emit_with_ack(event::ONLINE, payload(&OnlineRequest::Named { name })?)
        .await
        .map_err(in_readers_words)?;
    let ack: OnlineAck = parse_reply(reply.get()).map_err(in_readers_words)?;
    // The cookie first: if it cannot be set, the form stays up with the
    // error, and trying again renews the token for the same user.
    adopt_session_cookie(&ack.token).await?;
    chat.me.set(Some(ack.user));
    Ok(())
}

/// Turns a session token (from an `online` ack) into the HttpOnly session
/// cookie, which JavaScript cannot set or read itself: a `fetch` POST to
/// the `adopt_session` server function with a form-encoded body that asks
/// for JSON (so it answers, where a browser form would be redirected
/// back). The generated client would bring leptos' whole server-function
/// client into the bundle for this one call (docs/performance.md, finding
/// 23).
async fn adopt_session_cookie(token: &str) -> Result<(), ApiError> {
    let failed = |why: String| ApiError::new(code::REQUEST_FAILED, format!("Could not keep you signed in: {why}"));
    let response = gloo_net::http::Request::post(ADOPT_SESSION_PATH)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(format!("token={}", String::from(js_sys::encode_uri_component(token))))
        .map_err(|e| failed(e.to_string()))?
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(serde_json::from_str::<ApiError>(&body).unwrap_or_else(|_| failed(format!("the server answered {status}"))))
}

/// A client message id: unique per message, reused on retry.
pub fn new_cid() -> String {
    format!("{:x}-{:x}", js_sys::Date::now() as u64, (js_sys::Math::random() * 2f64.powi(48)) as u64)
}

thread_local! {
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
    /// Where and when I last said I was typing (ms since the epoch).
    static TYPED: RefCell<(String, f64)> = const { RefCell::new((String::new(), 0.0)) };
}

/// Says I am typing in the conversation on screen, unless I said so there
/// less than `TYPING_EVERY_MS` ago. Nothing is lost if it fails: typing
/// is only ever a hint.
pub fn typing(chat: ChatState) {
    let (now, here) = (js_sys::Date::now(), chat.active.with_untracked(Conversation::path));
    let said = TYPED.with(|typed| typed.borrow().0 == here && now - typed.borrow().1 < TYPING_EVERY_MS as f64);
    if chat.me_id().is_none() || said {
        return;
    }
    TYPED.with(|typed| *typed.borrow_mut() = (here, now));
    let request = match chat.active.get_untracked() {
        Conversation::Room(room) => TypingRequest { room: Some(room), with: None },
        Conversation::Direct(peer) => TypingRequest { room: None, with: Some(peer.id) },
    };
    let Some(socket) = client() else { return };
    let Ok(request) = payload(&request) else { return };
    leptos::task::spawn_local(async move {
        let _ = socket.emit_with_ack(event::TYPING, request).await;
    });
}

/// How long a message answered `unavailable` waits before it is sent again
/// (a change to a message too, `client::changes`).
pub(super) const UNAVAILABLE_RETRY_MS: u32 = 3000;

/// Sends the outbox, oldest first and one at a time so order is kept. A
/// message leaves the outbox once the server has stored it; if the
/// connection is down it stays, shown as pending, and goes out again (same
/// `cid`, so it is stored once) after the next reconnect.
pub fn flush_outbox(chat: ChatState) {
    if FLUSHING.with(|flushing| flushing.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        while let Some(next) = chat.next_outgoing() {
            match send_one(&next).await {
                // Shown as stored at once: its live copy may come later, or
                // (dropped on the way) never.
                Ok(ack) => {
                    if let Some(gap) = chat.sent(&next.cid, ack) {
                        leptos::task::spawn_local(fill_gap(chat, gap));
                    }
                }
                // Not the message's fault: try again after reconnecting.
                Err(error)
                    if matches!(
                        error.code.as_str(),
                        code::DISCONNECTED | code::TIMEOUT | code::BUSY | code::INTERNAL
                    ) =>
                {
                    break
                }
                // The server's database is out of reach while the socket
                // stays up: try again in a moment, the same cid.
                Err(error) if error.code == code::UNAVAILABLE => {
                    leptos::task::spawn_local(async move {
                        TimeoutFuture::new(UNAVAILABLE_RETRY_MS).await;
                        flush_outbox(chat);
                    });
                    break;
                }
                Err(error) => chat.refuse(&next.cid, error.message),
            }
        }
        FLUSHING.with(|flushing| flushing.set(false));
    });
}

async fn send_one(message: &Outgoing) -> Result<MessageAck, ApiError> {
    let (text, cid) = (message.text.clone(), Some(message.cid.clone()));
    let media = message.media.as_ref().map(|media| media.id.clone());
    let reply_to = message.reply_to.as_ref().map(|quote| quote.id);
    let (thread, also_to_conversation) = message.thread.map_or((None, false), |t| (Some(t.root), t.in_conversation));
    let (mentions, everyone) = (message.mentions.users.clone(), message.mentions.everyone);
    let (name, request) = match &message.to {
        Conversation::Room(room) => {
            let room = Some(room.clone());
            let request =
                MessageRequest { room, text, cid, media, reply_to, thread, also_to_conversation, mentions, everyone };
            (event::MESSAGE, payload(&request)?)
        }
        Conversation::Direct(peer) => {
            let to = peer.id;
            let request =
                SecretRequest { to, text, cid, media, reply_to, thread, also_to_conversation, mentions, everyone };
            (event::SECRET, payload(&request)?)
        }
    };
    let reply = ask_until_accepted(name, request).await?;
    read_reply_body(reply.get())
}

/// An event's payload as the JSON text the socket sends. Typed requests
/// rather than `json!`: the bundle then carries no `Value`.
pub(super) fn payload(request: &impl Serialize) -> Result<RawPayload, ApiError> {
    serde_json::value::to_raw_value(request).map_err(|e| ApiError::new(code::INTERNAL, e.to_string()))
}

/// The payload of a request that needs no arguments.
pub(super) fn no_payload() -> RawPayload {
    serde_json::value::RawValue::NULL.to_owned()
}

/// Emits `event` and reads its ack as `T`.
pub(super) async fn ask<T: DeserializeOwned>(event: &str, data: RawPayload) -> Result<T, ApiError> {
    let reply = ask_until_accepted(event, data).await?;
    read_reply_body(reply.get())
}

/// Emits `event` until its ack is not `rate_limited`: it waits and asks
/// again (0.5 s, then doubling, a few times), so a burst such as a long
/// outbox or a resume goes through at the server's pace. Returns an
/// accepting ack; a refusal is the error it carries. One function for every
/// reply type, so the bundle holds one copy of this loop.
pub(super) async fn ask_until_accepted(event: &str, data: RawPayload) -> Result<RawPayload, ApiError> {
    let mut wait_ms = 500;
    loop {
        let socket = connected_client().map_err(in_readers_words)?;
        let reply = socket.emit_with_ack(event, data.clone()).await.map_err(in_readers_words)?;
        match check_reply(reply.get()) {
            Err(error) if error.code == code::RATE_LIMITED && wait_ms <= MAX_RATE_LIMIT_WAIT_MS => {
                TimeoutFuture::new(wait_ms).await;
                wait_ms *= 2;
            }
            Err(error) => return Err(in_readers_words(error)),
            Ok(()) => return Ok(reply),
        }
    }
}

/// A refusal as the reader is shown it: in their language (`crate::i18n`).
pub(super) fn in_readers_words(error: ApiError) -> ApiError {
    ApiError { message: error_message(&error.code, &error.message), ..error }
}

/// The longest single wait before asking again after `rate_limited`.
const MAX_RATE_LIMIT_WAIT_MS: u32 = 8_000;

/// Asks for a page of history over the socket.
pub(super) async fn history(request: HistoryRequest) -> Result<HistoryPage, ApiError> {
    ask(event::HISTORY, payload(&request)?).await
}

/// Loads the page before `before` in `conversation` (scrolling back).
pub async fn load_earlier(chat: ChatState, conversation: Conversation, before: i64) {
    let Some(id) = conversation.id(chat.me_id()) else { return };
    let Some(request) = page_of(chat, &id) else { return };
    match history(HistoryRequest { before: Some(before), ..request }).await {
        Ok(page) => chat.merge_page(&id, page.into_messages()),
        Err(error) => chat.notice.set(Some(error.message)),
    }
}

/// Shows `conversation`, puts its address (`/r/…`, `/dm/…`) in the address
/// bar so it can be shared or bookmarked, and loads its latest page unless
/// I hold it already (a room may hold only what arrived live before it was
/// first opened).
pub fn open(chat: ChatState, conversation: Conversation) {
    address::push(&conversation);
    switch(chat, conversation);
}

/// Shows `conversation`, loading its latest page unless I hold it already,
/// without touching the address (Back and Forward already moved it).
pub fn switch(chat: ChatState, conversation: Conversation) {
    chat.open(conversation.clone());
    let Some(id) = conversation.id(chat.me_id()).filter(|id| !chat.holds_latest(id)) else { return };
    leptos::task::spawn_local(async move {
        load_latest(chat, &id).await;
    });
}

/// Merges the latest page of `id` (when it cannot come, the notice says
/// why).
async fn load_latest(chat: ChatState, id: &ConversationId) {
    let Some(request) = page_of(chat, id) else { return };
    match history(request).await {
        Ok(page) => {
            let changes = page.changes;
            chat.merge_latest(id, page.into_messages(), changes);
        }
        Err(error) => chat.notice.set(Some(error.message)),
    }
}

/// A page of rooms: a first page (of a search, or of every room) becomes
/// my list; a later page (`after`) is added to it. The next page starts
/// where this one ends.
pub async fn find_rooms(chat: ChatState, request: RoomsRequest) -> Result<(), ApiError> {
    let first = request.after.is_none();
    let list: RoomList = ask(event::ROOMS, payload(&request)?).await?;
    chat.rooms_after.set(next_rooms_after(&list.rooms, list.more));
    if first {
        chat.rooms.set(list.rooms);
    } else {
        list.rooms.into_iter().for_each(|room| chat.note_room(room));
    }
    Ok(())
}

/// Creates a room titled `title` (the server makes its name) and opens it.
pub async fn create_room(chat: ChatState, title: String, private: bool) -> Result<(), ApiError> {
    let request = CreateRoomRequest { title: Some(title), name: None, private };
    let room: RoomInfo = ask(event::CREATE_ROOM, payload(&request)?).await?;
    let name = room.name.clone();
    chat.note_room(room);
    open(chat, Conversation::Room(name));
    Ok(())
}

/// Joins the room on screen.
pub async fn join_room(chat: ChatState, room: String) -> Result<(), ApiError> {
    let room: RoomInfo = ask(event::JOIN_ROOM, payload(&RoomRequest { room })?).await?;
    chat.note_room(room);
    Ok(())
}

/// Who is in `room`.
pub async fn room_members(room: String) -> Result<RoomMembers, ApiError> {
    ask(event::ROOM_MEMBERS, payload(&RoomRequest { room })?).await
}

/// Adds `user` to the private room `room`.
pub async fn invite(room: String, user: UserId) -> Result<(), ApiError> {
    ask_until_accepted(event::INVITE, payload(&InviteRequest { room, user })?).await.map(|_| ())
}

/// Leaves a room and goes back to the lobby.
pub async fn leave_room(chat: ChatState, room: String) -> Result<(), ApiError> {
    let left: RoomInfo = ask(event::LEAVE_ROOM, payload(&RoomRequest { room })?).await?;
    chat.forget_room_if_hidden(left);
    open(chat, Conversation::lobby());
    Ok(())
}

/// How much of `conversation` notifies me from now on (my other tabs hear
/// it too).
pub async fn set_notify(chat: ChatState, conversation: &ConversationId, level: Notify) -> Result<(), ApiError> {
    let (room, with) = match conversation {
        ConversationId::Room(room) => (Some(room.clone()), None),
        ConversationId::Pair(..) => (None, chat.me_id().and_then(|me| conversation.peer_of(me))),
    };
    let setting: NotifySetting = ask(event::NOTIFY, payload(&NotifyRequest { room, with, level })?).await?;
    chat.level_chosen(setting);
    Ok(())
}
