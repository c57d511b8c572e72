//! Changing messages: `edit`, `delete` and `react`, acked once the change
//! is committed (from the delivery task, before the change itself goes
//! out, as a message's ack is); and `changes`, to catch up with them.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{connection_limits, in_flight, payload, seat_user, signed_in, throttle, AckSlot, Responder};
use crate::error::ChatError;
use crate::protocol::{
    ChangeAck, ChangesRequest, DeleteRequest, EditRequest, HistoryPage, ReactRequest, MAX_CHANGES_PAGE,
};
use crate::server::chat::access::conversation_to_read;
use crate::server::chat::changes::{change, Change, Changed};
use crate::server::chat::history;
use crate::server::limits::Action;
use crate::server::state::AppState;

/// `edit {id, text}`: new text for a message of mine.
pub async fn edit(
    s: SocketRef,
    TryData(request): TryData<EditRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    changed(&s, &state, reply, request.map(|r| (r.id, Owned::Edit(r.text)))).await;
}

/// `delete {id}`: a message of mine, for everyone.
pub async fn delete(
    s: SocketRef,
    TryData(request): TryData<DeleteRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    changed(&s, &state, reply, request.map(|r| (r.id, Owned::Delete))).await;
}

/// `react {id, emoji}`: my reaction, on or off.
pub async fn react(
    s: SocketRef,
    TryData(request): TryData<ReactRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    changed(&s, &state, reply, request.map(|r| (r.id, Owned::React(r.emoji)))).await;
}

/// A change as it came off the wire.
enum Owned {
    Edit(String),
    Delete,
    React(String),
}

/// One change, whichever event asked for it.
async fn changed(
    s: &SocketRef,
    state: &AppState,
    reply: Responder,
    request: Result<(i64, Owned), impl std::fmt::Display>,
) {
    let ack = AckSlot::new(reply);
    let result = async {
        throttle(s, Action::Send)?;
        let user = signed_in(s)?;
        let (id, owned) = payload(request)?;
        let what = match &owned {
            Owned::Edit(text) => Change::Edit(text),
            Owned::Delete => Change::Delete,
            Owned::React(emoji) => Change::React(emoji),
        };
        let on_commit =
            ack.on_commit(in_flight(s).await, |message| ChangeAck { id: message.id, change: message.revision.change });
        change(state, &user, id, what, Some(on_commit)).await
    };
    let answer = match result.await {
        Ok(Changed { fresh: true, .. }) => None,
        Ok(Changed { ack, .. }) => Some(Ok(ack)),
        Err(error) => Some(Err(error)),
    };
    ack.settle(answer);
}

/// `changes {room?, with?, after}`: the messages of a conversation I may
/// read that changed after a change number, in their current state.
pub async fn changes(
    s: SocketRef,
    TryData(request): TryData<ChangesRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let page = async {
        throttle(&s, Action::Read)?;
        let request = payload(request)?;
        let reader = seat_user(&s)?.map(|user| user.id);
        let conversation = conversation_to_read(&state, reader, request.room.as_deref(), request.with).await?;
        let address = connection_limits(&s).and_then(|limits| limits.address());
        let page = history::changed(&state, address, &conversation, request.after, MAX_CHANGES_PAGE).await?;
        Ok::<_, ChatError>(HistoryPage::of(page.messages, page.more, state.history_epoch.to_string(), page.changes))
    };
    reply.send(page.await);
}
