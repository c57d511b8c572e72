//! `search {q, before?}`: a page of the messages I may read that match.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{connection_limits, payload, seat_user, throttle, Responder};
use crate::protocol::SearchRequest;
use crate::server::chat::search::search as find;
use crate::server::limits::Action;
use crate::server::state::AppState;

pub async fn search(
    s: SocketRef,
    TryData(request): TryData<SearchRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Read)?;
        let reader = seat_user(&s)?;
        let address = connection_limits(&s).and_then(|limits| limits.address());
        find(&state, reader.as_ref(), address, &payload(request)?).await
    };
    reply.send(result.await);
}
