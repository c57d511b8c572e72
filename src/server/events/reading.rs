//! `read {room?, with?, seq}` moves how far I have read; `reads` lists it
//! for every conversation of mine; `notify {room?, with?, level}` sets how
//! much of a conversation notifies me.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{payload, signed_in, throttle, Responder};
use crate::protocol::{NotifyRequest, ReadRequest, ReadStates};
use crate::server::chat::notify::{chosen, set_notify};
use crate::server::chat::reading::{mark_read, read_states};
use crate::server::limits::Action;
use crate::server::state::AppState;

pub async fn read(
    s: SocketRef,
    TryData(request): TryData<ReadRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        mark_read(&state, &user, request.room.as_deref(), request.with, request.seq).await
    };
    reply.send(result.await);
}

pub async fn reads(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let result = async {
        throttle(&s, Action::Read)?;
        let user = signed_in(&s)?;
        Ok(ReadStates { reads: read_states(&state, user.id).await?, notify: chosen(&state, user.id).await? })
    };
    reply.send(result.await);
}

pub async fn notify(
    s: SocketRef,
    TryData(request): TryData<NotifyRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        set_notify(&state, &user, request.room.as_deref(), request.with, request.level).await
    };
    reply.send(result.await);
}
