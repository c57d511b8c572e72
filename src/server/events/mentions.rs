//! `mentions {before?}`: a page of the messages that called me.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{connection_limits, payload, signed_in, throttle, FirstArg, Responder};
use crate::protocol::MentionsRequest;
use crate::server::chat::mentions::mentions_of;
use crate::server::limits::Action;
use crate::server::state::AppState;

pub async fn mentions(
    s: SocketRef,
    TryData(request): TryData<FirstArg<MentionsRequest>>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Read)?;
        let reader = signed_in(&s)?;
        let address = connection_limits(&s).and_then(|limits| limits.address());
        let FirstArg(request) = payload(request)?;
        mentions_of(&state, &reader, address, request.unwrap_or_default().before).await
    };
    reply.send(result.await);
}
