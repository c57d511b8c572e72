//! Web Push: what would have notified someone (`protocol::notifies`: their
//! private messages and mentions, as they chose per conversation) reaches
//! their devices while none of their tabs is open, encrypted for each
//! device alone (RFC 8291, `aes128gcm`) and signed with the server's VAPID
//! key (RFC 8292), which is made at first start and kept in the database
//! (`meta`), so every node and every restart signs alike.
//!
//! The node that stored a message hands it to [`Push::stored`]; a task of
//! its own ([`run`]) decides who is away, reads their devices and sends,
//! so a slow push service never holds a message's ack; each push
//! service's host has a line of its own, so one that never answers holds
//! only its own pushes. Every queue is bounded: past it, pushes are
//! dropped (and counted), never the chat. Who is notified is decided when
//! the push is sent, so someone who left a private room meanwhile gets
//! nothing of it. A device its push service answers 404 or 410 is
//! forgotten. Endpoints are checked against SSRF ([`endpoint`]).
//!
//! Rooms set to "all" notify of every message in an open tab, but push
//! only mentions: a push per message of a busy room to every member's
//! every device is what people turn notifications off for.

pub mod endpoint;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use tokio::sync::{mpsc, Semaphore};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::WebPushBuilder;

use crate::error::ChatError;
use crate::protocol::{
    notifies, percent_encode, ConversationId, Mentions, Notify, PushNotice, PushSubscription, User, UserId,
};
use crate::server::config::Config;
use crate::server::socket::presence::Presence;
use crate::server::store::Store;

/// Messages waiting to be pushed, at most; past it, pushes are dropped.
const QUEUE: usize = 1024;
/// Pushes in flight at once.
const IN_FLIGHT: usize = 256;
/// Pushes in flight at once to one push service's host.
const PER_HOST_SENDING: usize = 8;
/// Pushes waiting or in flight for one host; past it, its pushes are dropped.
const PER_HOST_HELD: usize = 512;
/// Pushes waiting or in flight in all; past it, pushes are dropped.
const HELD: usize = 8192;
/// How long a push service has to answer.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a push service keeps a push for a device that is off (`TTL`),
/// and how long its signature holds: news of a chat goes stale.
const KEPT_FOR: Duration = Duration::from_secs(4 * 60 * 60);
/// A notification's text stops here (in characters): a push's payload is
/// at most 4 KiB once encrypted.
const MAX_BODY_CHARS: usize = 200;
/// Where the VAPID key is kept in `meta`.
const KEY_NAME: &str = "vapid_private_key";

/// A stored message, for the people it may notify.
pub struct News {
    pub conversation: ConversationId,
    pub from: User,
    pub id: i64,
    pub seq: i64,
    pub text: String,
    /// Whether it carries a file.
    pub file: bool,
    pub mentions: Mentions,
    /// Who it may notify: the other party of a private conversation, or
    /// those it calls in a room.
    pub candidates: Vec<UserId>,
}

/// The handle the chat pushes through; off, it does nothing.
#[derive(Clone, Default)]
pub struct Push {
    on: Option<Arc<On>>,
}

struct On {
    queue: mpsc::Sender<News>,
    /// The VAPID public key, as browsers take it (`applicationServerKey`).
    public_key: String,
    private_allowed: bool,
}

impl Push {
    /// Starts pushing (unless `RTCA_PUSH` is off): the VAPID key, made or
    /// read back, and the task that sends.
    pub async fn start(
        config: &Config,
        store: Arc<dyn Store>,
        presence: Arc<Presence>,
    ) -> anyhow::Result<(Push, Option<tokio::task::JoinHandle<()>>)> {
        if !config.push {
            return Ok((Push::default(), None));
        }
        let key = vapid_key(store.as_ref()).await?;
        let public_key = Base64UrlUnpadded::encode_string(&key.public_key().public_key().to_bytes_uncompressed());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past `PublicOnly`.
            .no_proxy()
            .dns_resolver(Arc::new(endpoint::PublicOnly { private_allowed: config.push_private_endpoints }))
            .connect_timeout(Duration::from_secs(5))
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("RTCA/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let (queue, news) = mpsc::channel(QUEUE);
        let sender = Sender {
            store,
            presence,
            key,
            contact: config.push_contact.clone(),
            private_allowed: config.push_private_endpoints,
            client,
        };
        let task = tokio::spawn(run(news, Arc::new(sender)));
        let on = On { queue, public_key, private_allowed: config.push_private_endpoints };
        Ok((Push { on: Some(Arc::new(on)) }, Some(task)))
    }

    pub fn is_on(&self) -> bool {
        self.on.is_some()
    }

    /// The VAPID public key, when pushing is on.
    pub fn public_key(&self) -> Option<&str> {
        self.on.as_deref().map(|on| on.public_key.as_str())
    }

    /// `device`, if it may be kept: pushing is on and its endpoint is one
    /// the server may send to.
    pub fn check(&self, device: &PushSubscription) -> Result<(), ChatError> {
        let on = self.on.as_deref().ok_or(ChatError::PushOff)?;
        endpoint::checked(device, on.private_allowed).map(|_| ())
    }

    /// A message was stored: push it to whoever it notifies and is away.
    pub fn stored(&self, news: News) {
        let Some(on) = self.on.as_deref() else { return };
        if news.candidates.is_empty() {
            return;
        }
        if on.queue.try_send(news).is_err() {
            crate::server::metrics::push_dropped();
            tracing::warn!("the push queue is full: a push was dropped");
        }
    }
}

/// The server's VAPID key: the one kept, or a new one kept now (the first
/// node to keep one wins; the others read it back).
async fn vapid_key(store: &dyn Store) -> anyhow::Result<ES256KeyPair> {
    let fresh = Base64UrlUnpadded::encode_string(&ES256KeyPair::generate().to_bytes());
    let kept = store.keep_meta(KEY_NAME, &fresh).await?;
    let bytes =
        Base64UrlUnpadded::decode_vec(&kept).map_err(|_| anyhow::anyhow!("the kept VAPID key is unreadable"))?;
    ES256KeyPair::from_bytes(&bytes).map_err(|error| anyhow::anyhow!("the kept VAPID key is unreadable: {error}"))
}

/// What the sending task holds.
struct Sender {
    store: Arc<dyn Store>,
    presence: Arc<Presence>,
    key: ES256KeyPair,
    contact: String,
    private_allowed: bool,
    client: reqwest::Client,
}

/// Sends what is queued until every handle is gone. A message's pushes go
/// out on tasks of their own, so the next message is read at once. Each
/// push service's host has its own line: at most [`PER_HOST_SENDING`] in
/// flight and [`PER_HOST_HELD`] waiting or in flight (past that, pushes to
/// it are dropped), and [`IN_FLIGHT`] in all. So devices on a host that
/// never answers hold their own line for [`SEND_TIMEOUT`] each, not
/// everyone's.
async fn run(mut news: mpsc::Receiver<News>, sender: Arc<Sender>) {
    let places = Arc::new(Semaphore::new(IN_FLIGHT));
    let hosts = Arc::new(Hosts::default());
    while let Some(news) = news.recv().await {
        let (payload, devices) = match devices_for(&sender, news).await {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "could not push a message");
                continue;
            }
        };
        for device in devices {
            let Some(line) = hosts.join(&device.endpoint) else {
                crate::server::metrics::push_dropped();
                continue;
            };
            let (sender, places, payload) = (Arc::clone(&sender), Arc::clone(&places), payload.clone());
            tokio::spawn(async move {
                let Ok(_turn) = line.host.sending.acquire().await else { return };
                let Ok(_place) = places.acquire().await else { return };
                send(&sender, &device, payload).await;
            });
        }
    }
}

/// Each push service's host's line ([`run`]), by host name; a line goes
/// once nothing waits in it.
#[derive(Default)]
struct Hosts {
    lines: Mutex<HashMap<String, Arc<Host>>>,
    /// Pushes waiting or in flight in every line; changed only under
    /// `lines`.
    held: AtomicUsize,
}

struct Host {
    sending: Semaphore,
    /// Pushes waiting or in flight; changed only under `Hosts::lines`.
    held: AtomicUsize,
}

/// A push's place in its host's line, given back when dropped.
struct InLine {
    hosts: Arc<Hosts>,
    name: String,
    host: Arc<Host>,
}

impl Hosts {
    fn join(self: &Arc<Self>, endpoint: &str) -> Option<InLine> {
        let name = url::Url::parse(endpoint).ok()?.host_str()?.to_owned();
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if self.held.load(Ordering::Relaxed) >= HELD {
            return None;
        }
        let host = lines
            .entry(name.clone())
            .or_insert_with(|| Arc::new(Host { sending: Semaphore::new(PER_HOST_SENDING), held: AtomicUsize::new(0) }));
        // (A full line holds pushes: it is never an empty one left behind.)
        if host.held.load(Ordering::Relaxed) >= PER_HOST_HELD {
            return None;
        }
        host.held.fetch_add(1, Ordering::Relaxed);
        self.held.fetch_add(1, Ordering::Relaxed);
        Some(InLine { hosts: Arc::clone(self), name, host: Arc::clone(host) })
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        let mut lines = self.hosts.lines.lock().unwrap_or_else(PoisonError::into_inner);
        self.hosts.held.fetch_sub(1, Ordering::Relaxed);
        if self.host.held.fetch_sub(1, Ordering::Relaxed) == 1 {
            lines.remove(&self.name);
        }
    }
}

/// What to push for one message, and to which devices: those of the
/// people it notifies who are away, and (in a room other than the lobby)
/// still members, as it is now, not as it was when it was queued.
async fn devices_for(sender: &Sender, news: News) -> Result<Option<(Vec<u8>, Vec<PushSubscription>)>, ChatError> {
    let away: Vec<UserId> = news
        .candidates
        .iter()
        .copied()
        .filter(|&user| user != news.from.id && sender.presence.online_user(user).is_none())
        .collect();
    if away.is_empty() {
        return Ok(None);
    }
    let chosen = sender.store.levels_for(&news.conversation, &away).await?;
    let level_of = |user: UserId| {
        chosen
            .iter()
            .find(|(who, _)| *who == user)
            .map_or_else(|| Notify::default_for(&news.conversation), |(_, level)| *level)
    };
    let mut notified: Vec<UserId> =
        away.into_iter().filter(|&user| notifies(level_of(user), user, news.from.id, &news.mentions)).collect();
    if let Some(room) = news.conversation.room_name() {
        notified = sender.store.members_among(room, &notified).await?;
    }
    if notified.is_empty() {
        return Ok(None);
    }
    let devices = sender.store.push_devices(&notified).await?;
    let payload = serde_json::to_vec(&notice_of(&news)).map_err(|_| ChatError::Internal)?;
    Ok(Some((payload, devices.into_iter().map(|(_, device)| device).collect())))
}

/// What the notification says, in no language of its own: who, where, what.
fn notice_of(news: &News) -> PushNotice {
    let body = if news.file && news.text.is_empty() {
        "📎".to_owned()
    } else {
        news.text.chars().take(MAX_BODY_CHARS).collect()
    };
    let (title, tag, url) = match &news.conversation {
        ConversationId::Room(room) => (
            format!("{} · #{room}", news.from.name),
            format!("rtca-room-{room}"),
            format!("/r/{}?around={}#m-{}", percent_encode(room), news.seq, news.id),
        ),
        ConversationId::Pair(a, b) => (
            news.from.name.clone(),
            format!("rtca-pair-{a}-{b}"),
            format!("/dm/{}?around={}#m-{}", news.from.id, news.seq, news.id),
        ),
    };
    PushNotice { title, body, tag, url }
}

/// Sends one push; a device its service no longer knows is forgotten.
async fn send(sender: &Sender, device: &PushSubscription, payload: Vec<u8>) {
    let checked = match endpoint::checked(device, sender.private_allowed) {
        Ok(checked) => checked,
        Err(error) => return tracing::warn!(%error, "a kept push endpoint is refused now"),
    };
    let request = WebPushBuilder::new(checked.endpoint, checked.public_key, checked.auth)
        .with_valid_duration(KEPT_FOR)
        .with_vapid(&sender.key, &sender.contact)
        .build(payload);
    let request = match request.map(reqwest::Request::try_from) {
        Ok(Ok(request)) => request,
        Ok(Err(error)) => return tracing::warn!(%error, "could not make a push request"),
        Err(error) => return tracing::warn!(%error, "could not encrypt a push"),
    };
    let status = match sender.client.execute(request).await {
        Ok(response) => response.status(),
        Err(error) => {
            crate::server::metrics::pushed("failed");
            return tracing::debug!(%error, "a push service is out of reach");
        }
    };
    if status.is_success() {
        crate::server::metrics::pushed("sent");
    } else if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        crate::server::metrics::pushed("gone");
        if let Err(error) = sender.store.remove_push_device(&device.endpoint, None).await {
            tracing::warn!(%error, "could not forget a device its push service no longer knows");
        }
    } else {
        crate::server::metrics::pushed("refused");
        tracing::debug!(%status, "a push service refused a push");
    }
}
