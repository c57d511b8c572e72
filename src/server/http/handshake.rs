//! New Engine.IO sessions, per address. A handshake (a Socket.IO request
//! without a `sid`) makes socketioxide keep a session until its CONNECT
//! comes or `RTCA_CONNECT_TIMEOUT_MS` passes; the connection caps count
//! sockets only after CONNECT. This bounds the sessions one address can
//! keep waiting: about the rate's burst, plus its rate times the timeout.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::server::delivery::wire::Peer;
use crate::server::socket::SOCKET_PATH;
use crate::server::state::AppState;

/// Refuses a new Engine.IO session past its address's rate (`429`).
pub async fn limit_handshakes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let new_session = request.uri().path().starts_with(SOCKET_PATH)
        && !request.uri().query().unwrap_or_default().split('&').any(|pair| pair.starts_with("sid="));
    if new_session {
        let address = request.extensions().get::<ConnectInfo<Peer>>().map(|ConnectInfo(peer)| peer.addr.ip());
        if let Err(refused) = state.limits.address_handshakes(address) {
            tracing::debug!(?address, "refused a handshake: too many from this address");
            return super::too_many_requests(refused);
        }
    }
    next.run(request).await
}
