//! Web Push: a device asks its browser's push service for a subscription
//! (an endpoint and two keys, RFC 8291) under the server's VAPID key, and
//! hands it to RTCA. While none of its person's tabs is open, RTCA sends it
//! what would have notified them (`super::notifies`), encrypted for it
//! alone; the service worker shows it.

use serde::{Deserialize, Serialize};

/// The longest endpoint kept, in bytes (real ones are a few hundred).
pub const MAX_PUSH_ENDPOINT: usize = 1024;

/// Devices kept per person; a new one past it replaces the oldest.
pub const MAX_PUSH_DEVICES: usize = 10;

/// A device's subscription, as the browser's `PushSubscription.toJSON()`
/// writes it: `push_subscribe`'s payload.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PushSubscription {
    pub endpoint: String,
    pub keys: PushKeys,
}

/// The device's P-256 public key and its authentication secret, both
/// base64url without padding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `push_unsubscribe {endpoint}`: this device wants no more pushes.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct PushUnsubscribe {
    pub endpoint: String,
}

/// What a push carries (encrypted), for the service worker to show.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PushNotice {
    pub title: String,
    pub body: String,
    /// One per conversation: a newer push replaces the one shown.
    pub tag: String,
    /// The page that opens the message (`/r/…?around=…#m-…`, `/dm/…`).
    pub url: String,
}
