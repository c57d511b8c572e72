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
use super::socket::{SocketClient, SocketEvent};
use crate::chat_state::{ChatState, ConnStatus, Conversation, Gap, LocalClock, Outgoing};
use crate::engine_io::RawPayload;
use crate::error::{code, ApiError};
use crate::protocol::{
    check_reply, event, next_rooms_after, parse_reply, read_reply_body, validate_name, ChangesRequest,
    ConversationId, ConversationList, CreateRoomRequest, DeleteRequest, EditRequest, HistoryPage, HistoryRequest,
    InviteRequest, MessageAck, MessageRequest, OnlineAck, OnlineRequest, ReactRequest, ReadRequest, ReadStates,
    RoomInfo, RoomList,
    RoomMembers, RoomRequest, RoomsRequest, SecretRequest, TypingRequest, UserId, ADOPT_SESSION_PATH, LOBBY,
    MAX_HISTORY_PAGE, TYPING_EVERY_MS,
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
    // Only when the day or offset changes: every time label reads it.
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
    read_clock(chat);
    // "Today" moves on at midnight, for a tab left open overnight.
    let _ = set_interval_with_handle(move || read_clock(chat), std::time::Duration::from_secs(60));

    let socket = SocketClient::start(move |happening| match happening {
        SocketEvent::Status(status) => chat.status.set(status),
        SocketEvent::Event { name, data } => {
            if let Some(gap) = chat.apply(&name, data.get()) {
                leptos::task::spawn_local(fill_gap(chat, gap));
            }
        }
        SocketEvent::Connected { .. } => {
            chat.reconnected();
            flush_outbox(chat);
            // The first connection too: the page was rendered a moment
            // before the socket joined, and messages may have come between.
            leptos::task::spawn_local(resume(chat));
        }
    });
    CLIENT.with(|c| *c.borrow_mut() = Some(socket));
    watch_network(chat);
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

/// Puts the cursor in the composer.
pub fn focus_composer() {
    let composer = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[data-testid=composer]").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(composer) = composer {
        let _ = composer.focus();
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
pub fn mark_read(chat: ChatState) {
    let visible = !web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
    let Some((id, seq)) = chat.take_unread_seq(visible) else { return };
    let Some(page) = page_of(chat, &id) else { return };
    let Ok(request) = payload(&ReadRequest { room: page.room, with: page.with, seq }) else { return };
    leptos::task::spawn_local(async move {
        let _ = ask_until_accepted(event::READ, request).await;
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
    let name = validate_name(&name).map_err(ApiError::from)?.to_owned();
    let socket = connected_client()?;
    let reply = socket.emit_with_ack(event::ONLINE, payload(&OnlineRequest::Named { name })?).await?;
    let ack: OnlineAck = parse_reply(reply.get())?;
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
    let (name, request) = match &message.to {
        Conversation::Room(room) => {
            let room = Some(room.clone());
            let request = MessageRequest { room, text, cid, media, reply_to, thread, also_to_conversation };
            (event::MESSAGE, payload(&request)?)
        }
        Conversation::Direct(peer) => {
            let request = SecretRequest { to: peer.id, text, cid, media, reply_to, thread, also_to_conversation };
            (event::SECRET, payload(&request)?)
        }
    };
    let reply = ask_until_accepted(name, request).await?;
    read_reply_body(reply.get())
}

/// An event's payload as the JSON text the socket sends. Typed requests
/// rather than `json!`: the bundle then carries no `Value`.
fn payload(request: &impl Serialize) -> Result<RawPayload, ApiError> {
    serde_json::value::to_raw_value(request).map_err(|e| ApiError::new(code::INTERNAL, e.to_string()))
}

/// The payload of a request that needs no arguments.
fn no_payload() -> RawPayload {
    serde_json::value::RawValue::NULL.to_owned()
}

/// Emits `event` and reads its ack as `T`.
async fn ask<T: DeserializeOwned>(event: &str, data: RawPayload) -> Result<T, ApiError> {
    let reply = ask_until_accepted(event, data).await?;
    read_reply_body(reply.get())
}

/// Emits `event` until its ack is not `rate_limited`: it waits and asks
/// again (0.5 s, then doubling, a few times), so a burst such as a long
/// outbox or a resume goes through at the server's pace. Returns an
/// accepting ack; a refusal is the error it carries. One function for every
/// reply type, so the bundle holds one copy of this loop.
async fn ask_until_accepted(event: &str, data: RawPayload) -> Result<RawPayload, ApiError> {
    let mut wait_ms = 500;
    loop {
        let socket = connected_client()?;
        let reply = socket.emit_with_ack(event, data.clone()).await?;
        match check_reply(reply.get()) {
            Err(error) if error.code == code::RATE_LIMITED && wait_ms <= MAX_RATE_LIMIT_WAIT_MS => {
                TimeoutFuture::new(wait_ms).await;
                wait_ms *= 2;
            }
            Err(error) => return Err(error),
            Ok(()) => return Ok(reply),
        }
    }
}

/// The longest single wait before asking again after `rate_limited`.
const MAX_RATE_LIMIT_WAIT_MS: u32 = 8_000;

/// Asks for a page of history over the socket.
async fn history(request: HistoryRequest) -> Result<HistoryPage, ApiError> {
    ask(event::HISTORY, payload(&request)?).await
}

/// After connecting, fetches exactly what each conversation missed, by
/// `seq`: the lobby, the rooms I follow, then every private conversation
/// the server lists with a newer `seq` than I know, including ones started
/// while I was away. A gap too large for one page starts that conversation
/// over from its latest page instead.
async fn resume(chat: ChatState) {
    let lobby_id = ConversationId::room(LOBBY);
    let lobby = room_page(LOBBY);
    let mut caught = catch_up(lobby.clone(), chat.known_seq(&lobby_id)).await;
    // The lobby's page also says which history the server holds. A new one
    // (a reset database) makes every `seq` I have meaningless.
    if let Ok(CaughtUp::Missed(page) | CaughtUp::Restart(page)) = &caught {
        if chat.epoch.with_value(|epoch| *epoch != page.epoch) {
            chat.start_over(page.epoch.clone());
            caught = history(lobby).await.map(CaughtUp::Restart);
        }
    }
    absorb(chat, &lobby_id, caught);
    // Holes found while connected whose filling failed: the newest `seq`
    // is past them, so the catching up below would not ask for them.
    for gap in chat.unfilled_gaps.try_update_value(std::mem::take).unwrap_or_default() {
        fill_gap(chat, gap).await;
    }
    // Then every other room I have messages of, if the list says it moved
    // on; rooms I never opened load when I open them.
    let rooms = match ask::<RoomList>(event::ROOMS, no_payload()).await {
        Ok(list) => {
            chat.rooms_after.set(next_rooms_after(&list.rooms, list.more));
            list.rooms
        }
        Err(error) => return chat.notice.set(Some(error.message)),
    };
    chat.rooms.set(rooms.clone());
    for room in rooms {
        let id = ConversationId::room(room.name.as_str());
        if room.name != LOBBY {
            let Some(seen) = chat.known_seq(&id) else { continue };
            if seen < room.last_seq {
                absorb(chat, &id, catch_up(room_page(&room.name), Some(seen)).await);
            }
        }
        catch_up_changes(chat, &id, room.last_change).await;
    }
    let Some(me) = chat.me.get_untracked().map(|me| me.id) else { return };
    let list = match ask::<ConversationList>(event::CONVERSATIONS, no_payload()).await {
        Ok(list) => list,
        Err(error) => return chat.notice.set(Some(error.message)),
    };
    for summary in list.conversations {
        let id = ConversationId::pair(me, summary.with.id);
        let seen = chat.known_seq(&id);
        if seen.is_some_and(|seen| seen >= summary.last_seq) {
            continue;
        }
        // Not noted as caught up unless it did: the next resume tries again.
        if absorb(chat, &id, catch_up(private_page(summary.with.id), seen).await) {
            chat.note_conversation(&summary.with, summary.last_seq, summary.last_at);
        }
    }
    // Then the changes to messages I held, where the list says some came.
    let list = chat.conversations.get_untracked();
    for summary in list {
        let id = ConversationId::pair(me, summary.with.id);
        catch_up_changes(chat, &id, summary.last_change).await;
    }
    // And where I am everywhere: the server's word replaces mine, and
    // what I read while away from it is said again.
    match ask::<ReadStates>(event::READS, no_payload()).await {
        Ok(states) => {
            chat.read_seqs.set_value(Default::default());
            chat.apply_reads(states.reads);
            mark_read(chat);
        }
        Err(error) => chat.notice.set(Some(error.message)),
    }
}

/// Pages of changed messages a catch-up reads at most before it reloads
/// the conversation's latest page instead.
const MAX_CHANGE_PAGES: usize = 8;

/// Brings the messages I hold of `id` up to date with every edit,
/// deletion and reaction since the newest change I know of, if `last`
/// (the server's newest) is past it. A conversation of which I have
/// read no page yet needs none: its page will be current. Returns
/// whether it caught up.
async fn catch_up_changes(chat: ChatState, id: &ConversationId, last: i64) -> bool {
    let (Some(mut after), Some(request)) = (chat.known_change(id), page_of(chat, id)) else { return true };
    if after >= last {
        return true;
    }
    for _ in 0..MAX_CHANGE_PAGES {
        let ask_for = ChangesRequest { room: request.room.clone(), with: request.with, after };
        let page: HistoryPage = match ask(event::CHANGES, payload(&ask_for).unwrap_or_else(|_| no_payload())).await {
            Ok(page) => page,
            Err(error) => {
                chat.notice.set(Some(error.message));
                return false;
            }
        };
        let (more, read_first) = (page.more, page.changes);
        let changed = page.into_messages();
        after = changed.iter().map(|m| m.revision.change).max().unwrap_or(after);
        // A whole answer covers every change up to the number read before
        // it; a cut one, those up to its last.
        let upto = if more { after } else { after.max(read_first) };
        chat.receive_changes(id, changed, upto);
        if !more {
            return true;
        }
    }
    absorb(chat, id, history(request).await.map(CaughtUp::Restart))
}

/// Fetches what a live event showed I missed while connected: a
/// conversation's messages, as [`resume`] does after a reconnect, or the
/// list of who is online. A conversation's gap that cannot be filled now is
/// kept for the next resume.
async fn fill_gap(chat: ChatState, gap: Gap) {
    let filled = match &gap {
        Gap::Conversation { id, seen } => match page_of(chat, id) {
            Some(request) => absorb(chat, id, catch_up(request, Some(*seen)).await),
            None => true,
        },
        Gap::Changes { id, seen } => catch_up_changes(chat, id, seen + 1).await,
        // The list comes as a `presence` event, with the server's next
        // flush. If asking fails, the connection's next list will do: every
        // connection starts with one.
        Gap::Presence => {
            let _ = ask_until_accepted(event::PRESENCE, no_payload()).await;
            true
        }
    };
    if !filled {
        chat.keep_unfilled(gap);
    }
}

fn room_page(room: &str) -> HistoryRequest {
    HistoryRequest { room: Some(room.to_owned()), ..Default::default() }
}

fn private_page(peer: UserId) -> HistoryRequest {
    HistoryRequest { with: Some(peer), ..Default::default() }
}

/// The request for the latest page of `id` (a private one is mine with
/// its other party); `None` for a private conversation that is not mine.
fn page_of(chat: ChatState, id: &ConversationId) -> Option<HistoryRequest> {
    match id {
        ConversationId::Room(room) => Some(room_page(room)),
        ConversationId::Pair(..) => {
            let me = chat.me_id()?;
            id.peer_of(me).map(private_page)
        }
    }
}

/// Applies a catch-up of `id`: what was missed, or the latest page instead
/// of what I had. Returns whether it caught up.
fn absorb(chat: ChatState, id: &ConversationId, caught: Result<CaughtUp, ApiError>) -> bool {
    match caught {
        Ok(CaughtUp::Missed(page)) => chat.receive_missed(page.into_messages()),
        Ok(CaughtUp::Restart(page)) => {
            let changes = page.changes;
            chat.restart(id, page.into_messages(), changes);
        }
        Err(error) => {
            chat.notice.set(Some(error.message));
            return false;
        }
    }
    true
}

enum CaughtUp {
    /// Everything after what we had.
    Missed(HistoryPage),
    /// Too much was missed: the latest page, to replace what we had.
    Restart(HistoryPage),
}

async fn catch_up(conversation: HistoryRequest, seen: Option<i64>) -> Result<CaughtUp, ApiError> {
    // Nothing held: the latest page is all there is to have.
    let Some(seen) = seen else { return history(conversation).await.map(CaughtUp::Restart) };
    let missed =
        history(HistoryRequest { after: Some(seen), limit: Some(MAX_HISTORY_PAGE), ..conversation.clone() }).await?;
    if !missed.more {
        return Ok(CaughtUp::Missed(missed));
    }
    history(conversation).await.map(CaughtUp::Restart)
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

/// What a message's form asks for.
pub enum MessageChange {
    Edit { id: i64, text: String },
    Delete { id: i64 },
    React { id: i64, emoji: String },
}

/// Edits, deletes or reacts to a message. The change itself comes back
/// live (`message_changed`, `secret_changed`), to every tab alike.
pub async fn change_message(change: MessageChange) -> Result<(), ApiError> {
    let (name, request) = match change {
        MessageChange::Edit { id, text } => (event::EDIT, payload(&EditRequest { id, text })?),
        MessageChange::Delete { id } => (event::DELETE, payload(&DeleteRequest { id })?),
        MessageChange::React { id, emoji } => (event::REACT, payload(&ReactRequest { id, emoji })?),
    };
    ask_until_accepted(name, request).await.map(|_| ())
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
