//! `push_subscribe` keeps this device's Web Push subscription for the
//! socket's session (signing out forgets it); `push_unsubscribe {endpoint}`
//! forgets it now.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{payload, session_token, signed_in, throttle, Responder};
use crate::error::ChatError;
use crate::protocol::{PushSubscription, PushUnsubscribe, MAX_PUSH_DEVICES};
use crate::server::chat::identity::hash_token;
use crate::server::clock::now_ms;
use crate::server::limits::Action;
use crate::server::state::AppState;

pub async fn subscribe(
    s: SocketRef,
    TryData(device): TryData<PushSubscription>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let device = payload(device)?;
        state.push.check(&device)?;
        // A socket signed in has a session; one that has none is not
        // signed in as far as a device is concerned.
        let token = session_token(&s).ok_or(ChatError::NotOnline)?;
        state.store.add_push_device(user.id, &hash_token(&token), &device, now_ms(), MAX_PUSH_DEVICES).await?;
        Ok(serde_json::json!({}))
    };
    reply.send(result.await);
}

pub async fn unsubscribe(
    s: SocketRef,
    TryData(request): TryData<PushUnsubscribe>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        state.store.remove_push_device(&request.endpoint, Some(user.id)).await?;
        Ok(serde_json::json!({}))
    };
    reply.send(result.await);
}
