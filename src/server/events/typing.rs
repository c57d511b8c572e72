//! `typing {room?, with?}`: I am typing there. Who is typing reaches the
//! conversation coalesced, at most once a second (`delivery::typing_feed`).

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{payload, signed_in, throttle, Responder};
use crate::protocol::TypingRequest;
use crate::server::chat::typing::typing as say_typing;
use crate::server::limits::Action;
use crate::server::state::AppState;

pub async fn typing(
    s: SocketRef,
    TryData(request): TryData<TypingRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        say_typing(&state, &user, request.room.as_deref(), request.with).await
    };
    reply.send(result.await.map(|()| serde_json::Map::new()));
}
