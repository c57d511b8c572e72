//! Web Push, the page's side: once notifications are allowed and someone is
//! signed in, this device's service worker subscribes with its browser's
//! push service under the server's VAPID key (`ChatState::push_key`), and
//! the subscription goes to the server (`push_subscribe`), which pushes to
//! it while none of this person's tabs is open (`server::push`). The
//! worker shows what comes (`public/sw.js`).
//!
//! Where the browser has no push service, or cannot reach its own, nothing
//! is kept and the page works as before: only the log says so.

use std::cell::Cell;

use leptos::prelude::{Effect, GetValue, With};

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{PushManager, PushSubscriptionOptionsInit, ServiceWorkerRegistration};

use super::session::{ask, payload};
use crate::chat_state::ChatState;
use crate::protocol::{event, PushSubscription, UserId};

thread_local! {
    /// Whom this page handed its device to the server for already.
    static HANDED: Cell<Option<UserId>> = const { Cell::new(None) };
}

/// Hands this device to the server whenever someone new is signed in on
/// the page (joining by name, signing in); `session` also calls
/// [`subscribe`] on every connection.
pub fn follow(chat: ChatState) {
    Effect::new(move |_| {
        if chat.me.with(Option::is_some) {
            subscribe(chat);
        }
    });
}

/// Subscribes this device for whoever is signed in, if it may and has not
/// for them yet on this page.
pub fn subscribe(chat: ChatState) {
    let Some(me) = chat.me_id() else { return };
    if HANDED.get() == Some(me) || super::notifications::answer() != "granted" {
        return;
    }
    let Some(key) = chat.push_key.get_value() else { return };
    leptos::task::spawn_local(async move {
        match subscription(&key).await {
            Ok(device) => match payload(&device) {
                Ok(data) => match ask::<serde_json::Value>(event::PUSH_SUBSCRIBE, data).await {
                    Ok(_) => HANDED.set(Some(me)),
                    Err(error) => {
                        leptos::logging::warn!("the server keeps no pushes for this device: {}", error.message)
                    }
                },
                Err(error) => leptos::logging::warn!("{}", error.message),
            },
            Err(problem) => leptos::logging::warn!("this browser gives no push subscription: {problem:?}"),
        }
    });
}

/// This device's subscription under `key`: the one it has, or a new one.
async fn subscription(key: &str) -> Result<PushSubscription, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let navigator = window.navigator();
    let workers = js_sys::Reflect::get(&navigator, &JsValue::from_str("serviceWorker"))?;
    if workers.is_undefined() || workers.is_null() || !window.is_secure_context() {
        return Err(JsValue::from_str("no service workers here"));
    }
    let registration: ServiceWorkerRegistration =
        JsFuture::from(navigator.service_worker().ready()?).await?.dyn_into()?;
    let manager: PushManager = registration.push_manager()?;
    let mut held = JsFuture::from(manager.get_subscription()?).await?;
    if held.is_null() || held.is_undefined() {
        let options = PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        options.set_application_server_key(&key_bytes(&window, key)?);
        held = JsFuture::from(manager.subscribe_with_options(&options)?).await?;
    }
    // `toJSON()`: `{endpoint, expirationTime, keys: {p256dh, auth}}`.
    let json = js_sys::JSON::stringify(&held)?.as_string().unwrap_or_default();
    serde_json::from_str(&json).map_err(|error| JsValue::from_str(&error.to_string()))
}

/// The VAPID key (base64url) as the bytes `applicationServerKey` takes.
fn key_bytes(window: &web_sys::Window, key: &str) -> Result<JsValue, JsValue> {
    let mut standard: String = key
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    let binary = window.atob(&standard)?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
    Ok(js_sys::Uint8Array::from(bytes.as_slice()).into())
}
