//! The storage contract (`server::store`'s docs), as tests any backend must
//! pass: written against the traits only, and run on every backend this
//! build has ([`backends`]: SQLite, and PostgreSQL on a throwaway server,
//! `common::postgres`). Only the last test, on group commit, is SQLite's
//! own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtca::protocol::{ConversationId, Message, User};
use rtca::server::names::NameKeys;
use rtca::server::store::{
    self, CommitSink, Committed, Cursor, Insert, NameHolder, NewGuest, NewMember, NewMessage, NewUpload, RoomFilter,
    Store,
};
use rtca::server::store::{StoreError, StoreResult};

mod changes;
mod push;
mod reading;

/// A store on a fresh database, and what its commit sink heard.
struct Backend {
    name: &'static str,
    url: String,
    store: Arc<dyn Store>,
    heard: Arc<Heard>,
    _dir: tempfile::TempDir,
}

/// Every committed message the sink heard, in the order it heard them.
/// Each one's `on_commit` runs as it is heard, as delivery's does.
#[derive(Default)]
struct Heard {
    messages: Mutex<Vec<Message>>,
    /// How many messages each batch held.
    batches: Mutex<Vec<usize>>,
}

impl CommitSink for Heard {
    fn committed(&self, batch: Vec<Committed>) {
        self.batches.lock().unwrap().push(batch.len());
        for Committed { message, on_commit, .. } in batch {
            if let Some(on_commit) = on_commit {
                on_commit(&message);
            }
            self.messages.lock().unwrap().push(message);
        }
    }
}

impl Heard {
    fn messages(&self) -> Vec<Message> {
        self.messages.lock().unwrap().clone()
    }
}

/// Every backend this build has, each on a database of its own.
async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("conformance.db").display());
    let heard = Arc::new(Heard::default());
    let sink: Arc<dyn CommitSink> = heard.clone();
    let store = store::open(&url, 4, Some(sink)).await.unwrap();
    let sqlite = Backend { name: "sqlite", url, store, heard, _dir: dir };
    let url = crate::common::postgres::new_database().await;
    let heard = Arc::new(Heard::default());
    let sink: Arc<dyn CommitSink> = heard.clone();
    let store = store::open(&url, 4, Some(sink)).await.unwrap();
    let postgres = Backend { name: "postgres", url, store, heard, _dir: tempfile::tempdir().unwrap() };
    vec![sqlite, postgres]
}

async fn guest(store: &dyn Store, name: &'static str) -> User {
    let token_hash = format!("{name}'s token");
    let keys = NameKeys::of(name);
    let new = NewGuest { name, keys: &keys, at: 1, token_hash: token_hash.as_bytes(), expires_at: 1_000 };
    store.create_guest_with_session(new).await.unwrap()
}

/// A message to store, with `cid` if given.
fn new<'a>(conversation: &'a ConversationId, from: &'a User, text: &'a str, cid: Option<&'a str>) -> NewMessage<'a> {
    NewMessage {
        conversation,
        from,
        to: None,
        members_only: false,
        text,
        cid,
        at: 5,
        media: None,
        reply_to: None,
        thread: None,
        mentions: Default::default(),
        called: Vec::new(),
        on_commit: None,
    }
}

fn stored(insert: StoreResult<Insert>) -> (i64, i64) {
    match insert.unwrap() {
        Insert::Stored { id, seq } => (id, seq),
        other => panic!("not stored: {other:?}"),
    }
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// Writers racing into three conversations at once: each conversation's
/// `seq` runs from 1 without a gap, and the sink hears every committed
/// message exactly once, in `seq` order within its conversation, as it
/// was stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seq_has_no_gaps_and_commits_are_heard_in_order() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        let conversations =
            [ConversationId::room("lobby"), ConversationId::room("dev"), ConversationId::pair(alice.id, bob.id)];
        let mut writers = Vec::new();
        for n in 0..120usize {
            let (store, alice, bob) = (Arc::clone(store), alice.clone(), bob.clone());
            let conversation = conversations[n % 3].clone();
            writers.push(tokio::spawn(async move {
                let to = matches!(conversation, ConversationId::Pair(..)).then_some(&bob);
                let text = format!("m{n}");
                let message = NewMessage { to, ..new(&conversation, &alice, &text, None) };
                (conversation.clone(), text.clone(), stored(store.insert_message(message).await))
            }));
        }
        let mut acked = BTreeMap::new();
        for writer in writers {
            let (conversation, text, (id, seq)) = writer.await.unwrap();
            acked.insert(id, (conversation, seq, text));
        }
        let heard = backend.heard.messages();
        assert_eq!(heard.len(), acked.len(), "{}: every commit heard once", backend.name);
        for message in &heard {
            let (conversation, seq, text) = &acked[&message.id];
            assert_eq!((&message.conversation, message.seq, &message.text), (conversation, *seq, text));
        }
        for conversation in &conversations {
            let in_order: Vec<i64> = heard.iter().filter(|m| &m.conversation == conversation).map(|m| m.seq).collect();
            assert_eq!(in_order, (1..=40).collect::<Vec<_>>(), "{}: {conversation:?} heard in seq order", backend.name);
            let kept = store.recent(conversation, 100).await.unwrap();
            assert_eq!(seqs(&kept), (1..=40).collect::<Vec<_>>(), "{}: {conversation:?} gapless", backend.name);
            assert_eq!(store.last_seq(conversation).await.unwrap(), 40);
        }
        let pair = store.recent(&conversations[2], 1).await.unwrap();
        assert_eq!(pair[0].to.as_ref().map(|to| to.id), Some(bob.id), "a pair's message names its recipient");
    }
}

/// The sink hears a message, and its `on_commit` runs, before its writer
/// hears back; a message that is not stored never runs it.
#[tokio::test]
async fn a_commit_is_heard_before_its_writer_hears_back() {
    for backend in backends().await {
        let store = &backend.store;
        let alice = guest(&**store, "alice").await;
        let lobby = ConversationId::room("lobby");
        let ran = Arc::new(Mutex::new(Vec::new()));
        let on_commit = |ran: &Arc<Mutex<Vec<i64>>>| {
            let ran = Arc::clone(ran);
            Some(Box::new(move |m: &Message| ran.lock().unwrap().push(m.seq)) as store::OnCommit)
        };
        let message = NewMessage { on_commit: on_commit(&ran), ..new(&lobby, &alice, "hi", Some("c1")) };
        let (id, seq) = stored(store.insert_message(message).await);
        assert_eq!(*ran.lock().unwrap(), [seq], "{}: on_commit ran before the writer heard back", backend.name);
        assert_eq!(backend.heard.messages().last().map(|m| m.id), Some(id));
        // A retry is stored once, heard once, and its on_commit never runs.
        let retry = NewMessage { on_commit: on_commit(&ran), ..new(&lobby, &alice, "hi", Some("c1")) };
        match store.insert_message(retry).await.unwrap() {
            Insert::Duplicate(first) => assert_eq!((first.id, first.seq, first.text.as_str()), (id, seq, "hi")),
            other => panic!("{}: a retry: {other:?}", backend.name),
        }
        assert_eq!(ran.lock().unwrap().len(), 1);
        assert_eq!(backend.heard.messages().len(), 1);
        // The same cid from someone else is another message.
        let bob = guest(&**store, "bob").await;
        assert_eq!(stored(store.insert_message(new(&lobby, &bob, "hi", Some("c1"))).await).1, seq + 1);
    }
}

/// A room for members only is checked in the transaction that stores the
/// message: a non-member is refused, and so is a member the moment after
/// they left.
#[tokio::test]
async fn members_only_rooms_check_the_membership_when_storing() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        store.create_room("club", "club", true, alice.id, 1).await.unwrap().unwrap();
        let club = ConversationId::room("club");
        let members_only = |from| NewMessage { members_only: true, ..new(&club, from, "hello", None) };
        assert_eq!(store.insert_message(members_only(&bob)).await.unwrap(), Insert::NotAMember);
        stored(store.insert_message(members_only(&alice)).await);
        store.add_member("club", bob.id, 2).await.unwrap();
        stored(store.insert_message(members_only(&bob)).await);
        store.remove_member("club", bob.id).await.unwrap();
        assert_eq!(store.insert_message(members_only(&bob)).await.unwrap(), Insert::NotAMember);
        assert_eq!(seqs(&store.recent(&club, 10).await.unwrap()), [1, 2], "{}: refusals stored nothing", backend.name);
    }
}

/// A file goes out once, on a message of its uploader's; the message is
/// heard with the file's description, and the upload then says where it
/// was sent.
#[tokio::test]
async fn a_file_is_linked_once_and_only_by_its_uploader() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        store.insert_upload(upload("bobs", "b1", bob.id)).await.unwrap();
        let pair = ConversationId::pair(alice.id, bob.id);
        let carrying = |from, to, media| NewMessage { to, media: Some(media), ..new(&pair, from, "", None) };
        assert_eq!(store.insert_message(carrying(&alice, Some(&bob), "bobs")).await.unwrap(), Insert::MediaRefused);
        assert_eq!(store.insert_message(carrying(&bob, Some(&alice), "nobody's")).await.unwrap(), Insert::MediaRefused);
        assert!(store.upload("bobs").await.unwrap().unwrap().carried_in.is_none());
        stored(store.insert_message(carrying(&bob, Some(&alice), "bobs")).await);
        let heard = backend.heard.messages();
        let media = heard.last().and_then(|m| m.media.clone()).expect("heard with its file");
        assert_eq!((media.id.as_str(), media.name.as_str(), media.size), ("bobs", "bobs.pdf", 3), "{}", backend.name);
        assert_eq!(store.insert_message(carrying(&bob, Some(&alice), "bobs")).await.unwrap(), Insert::MediaRefused);
        assert_eq!(store.upload("bobs").await.unwrap().unwrap().carried_in, Some(pair.clone()));
        assert_eq!(store.recent(&pair, 10).await.unwrap()[0].media, Some(media), "read back the same");
    }
}

fn upload<'a>(id: &'a str, sha256: &'a str, owner: i64) -> NewUpload<'a> {
    let name = if id == "bobs" { "bobs.pdf" } else { "file.pdf" };
    NewUpload {
        id,
        sha256,
        owner,
        name,
        mime: "application/pdf",
        size: 3,
        width: None,
        height: None,
        thumb_mime: None,
        at: 1,
    }
}

/// Pages by `seq` cursor: the newest, those before a `seq`, those after it.
#[tokio::test]
async fn pages_are_read_by_seq_cursor() {
    for backend in backends().await {
        let store = &backend.store;
        let alice = guest(&**store, "alice").await;
        let lobby = ConversationId::room("lobby");
        for n in 0..10 {
            stored(store.insert_message(new(&lobby, &alice, &format!("m{n}"), None)).await);
        }
        assert_eq!(seqs(&store.recent(&lobby, 3).await.unwrap()), [8, 9, 10]);
        assert_eq!(seqs(&store.page(&lobby, Cursor::Before(8), 3).await.unwrap()), [5, 6, 7]);
        assert_eq!(seqs(&store.page(&lobby, Cursor::After(8), 3).await.unwrap()), [9, 10]);
        assert_eq!(seqs(&store.page(&lobby, Cursor::After(0), 2).await.unwrap()), [1, 2]);
        assert!(store.page(&lobby, Cursor::Before(1), 5).await.unwrap().is_empty());
        let empty = ConversationId::room("nowhere");
        assert!(store.recent(&empty, 5).await.unwrap().is_empty());
        assert_eq!(store.last_seq(&empty).await.unwrap(), 0, "{}", backend.name);
    }
}

/// My private conversations, the most recently active first, each with
/// its newest `seq`; nobody else's.
#[tokio::test]
async fn private_conversations_are_listed_for_their_two_only() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob, carol) =
            (guest(&**store, "alice").await, guest(&**store, "bob").await, guest(&**store, "carol").await);
        let with_bob = ConversationId::pair(alice.id, bob.id);
        let with_carol = ConversationId::pair(carol.id, alice.id);
        let say = |conversation, from, to, at| NewMessage { to: Some(to), at, ..new(conversation, from, "hi", None) };
        stored(store.insert_message(say(&with_bob, &alice, &bob, 10)).await);
        stored(store.insert_message(say(&with_bob, &bob, &alice, 11)).await);
        stored(store.insert_message(say(&with_carol, &carol, &alice, 20)).await);
        let listed = store.conversations(alice.id, 10).await.unwrap();
        let summary: Vec<(i64, i64, i64)> = listed.iter().map(|c| (c.with.id, c.last_seq, c.last_at)).collect();
        assert_eq!(summary, [(carol.id, 1, 20), (bob.id, 2, 11)], "{}", backend.name);
        let bobs = store.conversations(bob.id, 10).await.unwrap();
        assert_eq!(bobs.iter().map(|c| c.with.id).collect::<Vec<_>>(), [alice.id]);
        assert_eq!(store.conversations(alice.id, 1).await.unwrap().len(), 1, "the limit holds");
    }
}

/// Who holds a name: an account for good; a guest while a session of
/// theirs is live and was presented once; look-alikes and other cases too.
#[tokio::test]
async fn names_are_held_by_accounts_and_by_guests_who_can_return() {
    for backend in backends().await {
        let store = &backend.store;
        let holder = |name: &str, except: Option<i64>, now: i64| {
            let keys = NameKeys::of(name);
            async move { store.name_holder(&keys, except, now).await.unwrap() }
        };
        let olivia = guest(&**store, "Olivia").await;
        assert_eq!(holder("olivia", None, 2).await, None, "a session never presented keeps no name");
        assert_eq!(store.session_user(b"Olivia's token", 2).await.unwrap(), Some(olivia.clone()));
        assert_eq!(holder("OLIVIA", None, 2).await, Some(NameHolder::Guest), "{}", backend.name);
        assert_eq!(holder("Olivіa", None, 2).await, Some(NameHolder::Guest), "a Cyrillic і");
        assert_eq!(holder("Olivia", Some(olivia.id), 2).await, None, "one's own name");
        assert_eq!(holder("Olivia", None, 1_000).await, None, "the session is over");
        assert_eq!(holder("Oliver", None, 2).await, None);

        let keys = NameKeys::of("Dora");
        store.create_member(NewMember { name: "Dora", keys: &keys, password_hash: "hash", at: 3 }).await.unwrap();
        assert_eq!(holder("D0ra", None, i64::MAX).await, Some(NameHolder::Member), "accounts hold theirs for good");
        store.rename_user(olivia.id, "Dora", &keys).await.unwrap();
        assert_eq!(holder("dora", None, 2).await, Some(NameHolder::Member), "an account before a guest");
        assert_eq!(holder("Olivia", None, 2).await, None, "a rename lets the old name go");
    }
}

/// Guests and their sessions, accounts by name key, renames.
#[tokio::test]
async fn users_sessions_and_accounts() {
    for backend in backends().await {
        let store = &backend.store;
        let alice = guest(&**store, "alice").await;
        assert_eq!(store.session_user(b"alice's token", 999).await.unwrap(), Some(alice.clone()));
        assert_eq!(store.session_user(b"alice's token", 1_000).await.unwrap(), None, "expired");
        assert_eq!(store.session_user(b"nobody's token", 1).await.unwrap(), None);
        store.create_session(b"second", alice.id, 2, 50).await.unwrap();
        store.delete_session(b"alice's token").await.unwrap();
        store.delete_session(b"never existed").await.unwrap();
        assert_eq!(store.session_user(b"alice's token", 2).await.unwrap(), None);
        assert_eq!(store.session_user(b"second", 2).await.unwrap(), Some(alice.clone()));
        // Renewed while live only; the expired are swept, the live kept.
        assert!(store.renew_session(b"second", 2, 5_000).await.unwrap());
        assert_eq!(store.session_user(b"second", 4_999).await.unwrap(), Some(alice.clone()));
        assert!(!store.renew_session(b"second", 5_000, 9_000).await.unwrap(), "an expired session came back");
        assert!(!store.renew_session(b"never existed", 0, 9_000).await.unwrap());
        store.create_session(b"third", alice.id, 2, 8_000).await.unwrap();
        assert_eq!(store.delete_expired_sessions(5_000).await.unwrap(), 1);
        assert_eq!(store.delete_expired_sessions(5_000).await.unwrap(), 0);
        assert_eq!(store.session_user(b"third", 5_000).await.unwrap(), Some(alice.clone()));

        let dora_keys = NameKeys::of("Dora");
        let dora = NewMember { name: "Dora", keys: &dora_keys, password_hash: "hash", at: 3 };
        let member = store.create_member(dora).await.unwrap().unwrap();
        let again = NewMember { name: "DORA", password_hash: "other", ..dora };
        assert_eq!(store.create_member(again).await.unwrap(), None, "one name key once");
        let look_alike_keys = NameKeys::of("D0ra");
        let look_alike = NewMember { name: "D0ra", keys: &look_alike_keys, password_hash: "hash", at: 3 };
        assert_eq!(store.create_member(look_alike).await.unwrap(), None, "nor a look-alike");
        assert_eq!(store.member("dora").await.unwrap(), Some((member.clone(), "hash".to_owned())));
        assert!(store.is_registered(member.id).await.unwrap());
        assert!(!store.is_registered(alice.id).await.unwrap());
        assert_eq!(store.member("alice").await.unwrap(), None, "guests are no accounts");

        store.rename_user(alice.id, "Alicia", &NameKeys::of("Alicia")).await.unwrap();
        assert_eq!(store.user(alice.id).await.unwrap().map(|u| u.name), Some("Alicia".to_owned()));
        assert_eq!(store.user(9_999).await.unwrap(), None, "{}", backend.name);
    }
}

/// Rooms: names are taken once, listings count for the viewer, private
/// rooms are listed to their members only.
#[tokio::test]
async fn rooms_and_their_members() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        assert!(store.create_room("dev", "dev", false, alice.id, 1).await.unwrap().is_some());
        assert_eq!(store.create_room("dev", "dev", true, bob.id, 2).await.unwrap(), None, "the name is taken");
        store.create_room("secret", "secret", true, alice.id, 3).await.unwrap().unwrap();
        assert_eq!(store.rooms_created_by(alice.id).await.unwrap(), 2);
        store.add_member("dev", bob.id, 4).await.unwrap();
        store.add_member("dev", bob.id, 5).await.unwrap();
        assert_eq!(
            store.room_members("dev").await.unwrap().into_iter().collect::<BTreeSet<_>>(),
            [alice.id, bob.id].into()
        );
        assert_eq!(store.memberships(alice.id).await.unwrap(), ["dev", "secret"]);
        stored(store.insert_message(new(&ConversationId::room("dev"), &bob, "hi", None)).await);

        let all = RoomFilter::default();
        let names = |page: store::RoomPage| page.rooms.into_iter().map(|l| l.room.name).collect::<Vec<_>>();
        // The lobby first, then the viewer's rooms, then the others.
        assert_eq!(names(store.room_listing(Some(bob.id), &[], all, 10).await.unwrap()), ["lobby", "dev"]);
        assert_eq!(names(store.room_listing(None, &[], all, 10).await.unwrap()), ["lobby", "dev"]);
        let alices = store.room_listing(Some(alice.id), &[bob.id], all, 10).await.unwrap();
        assert!(!alices.more);
        let alices = alices.rooms;
        assert_eq!(alices.iter().map(|l| l.room.name.as_str()).collect::<Vec<_>>(), ["lobby", "dev", "secret"]);
        let dev = &alices[1];
        assert_eq!((dev.members, dev.online, dev.joined, dev.last_seq), (2, 1, true, 1), "{}", backend.name);
        assert!(alices[2].room.private);
        store.remove_member("secret", alice.id).await.unwrap();
        assert!(!store.is_member("secret", alice.id).await.unwrap());
        assert_eq!(store.room("secret").await.unwrap().map(|r| r.private), Some(true), "rooms outlive members");
        // A room bob is not in comes after his, whatever its name; the
        // limit counts public rooms only, and says when more follow.
        store.create_room("aaa", "aaa", false, alice.id, 4).await.unwrap().unwrap();
        store.create_room("abc", "abc", false, alice.id, 5).await.unwrap().unwrap();
        assert_eq!(
            names(store.room_listing(Some(bob.id), &[], all, 10).await.unwrap()),
            ["lobby", "dev", "aaa", "abc"]
        );
        let first = store.room_listing(Some(bob.id), &[], all, 1).await.unwrap();
        assert!(first.more);
        assert_eq!(names(first), ["lobby", "dev", "aaa"]);
        let next = store.room_listing(Some(bob.id), &[], RoomFilter { after: Some("aaa"), ..all }, 1).await.unwrap();
        assert!(!next.more);
        assert_eq!(names(next), ["abc"], "a later page holds public rooms only");
        // A query keeps names that hold it, the viewer's own included.
        let find = |query| RoomFilter { query, after: None };
        assert_eq!(names(store.room_listing(Some(bob.id), &[], find("bc"), 10).await.unwrap()), ["abc"]);
        assert_eq!(names(store.room_listing(Some(bob.id), &[], find("b"), 10).await.unwrap()), ["lobby", "abc"]);
        assert_eq!(names(store.room_listing(Some(bob.id), &[], find("ev"), 10).await.unwrap()), ["dev"]);
        assert_eq!(names(store.room_listing(Some(bob.id), &[], find("ecr"), 10).await.unwrap()), Vec::<String>::new());
    }
}

/// Guests nobody can be any more are forgotten, with their memberships;
/// anyone with a session, a message, a file or a room is kept, as are the
/// online, the young and every account.
#[tokio::test]
async fn abandoned_guests_are_forgotten() {
    for backend in backends().await {
        let store = &backend.store;
        let [lurker, idle, poster, recipient, uploader, founder, online, keeper] =
            ["lurker", "idle", "poster", "recipient", "uploader", "founder", "online", "keeper"];
        let (lurker, idle, poster) =
            (guest(&**store, lurker).await, guest(&**store, idle).await, guest(&**store, poster).await);
        let (recipient, uploader) = (guest(&**store, recipient).await, guest(&**store, uploader).await);
        let (founder, online, keeper) =
            (guest(&**store, founder).await, guest(&**store, online).await, guest(&**store, keeper).await);
        let young_keys = NameKeys::of("young");
        let young = NewGuest { name: "young", keys: &young_keys, at: 500, token_hash: b"young", expires_at: 1_000 };
        let young = store.create_guest_with_session(young).await.unwrap();
        let dora_keys = NameKeys::of("Dora");
        let dora = NewMember { name: "Dora", keys: &dora_keys, password_hash: "hash", at: 3 };
        let member = store.create_member(dora).await.unwrap().unwrap();

        let pair = ConversationId::pair(poster.id, recipient.id);
        stored(store.insert_message(NewMessage { to: Some(&recipient), ..new(&pair, &poster, "hi", None) }).await);
        store.insert_upload(upload("kept", "k1", uploader.id)).await.unwrap();
        store.create_room("dev", "dev", false, founder.id, 2).await.unwrap().unwrap();
        store.add_member("dev", lurker.id, 3).await.unwrap();
        store.create_session(b"keeper's second", keeper.id, 2, 90_000).await.unwrap();
        store.delete_expired_sessions(5_000).await.unwrap();

        assert_eq!(store.delete_abandoned_guests(100, &[online.id]).await.unwrap(), 2, "{}", backend.name);
        for gone in [&lurker, &idle] {
            assert_eq!(store.user(gone.id).await.unwrap(), None, "{} was kept", gone.name);
        }
        for kept in [&poster, &recipient, &uploader, &founder, &online, &keeper, &young, &member] {
            assert_eq!(store.user(kept.id).await.unwrap().as_ref(), Some(kept), "{} was forgotten", kept.name);
        }
        assert_eq!(store.room_members("dev").await.unwrap(), [founder.id], "memberships go with their guest");
        assert_eq!(store.delete_abandoned_guests(100, &[online.id]).await.unwrap(), 0);
    }
}

/// Uploads no message took go after their grace; blobs no upload uses
/// go once their bytes are removed, unless an upload came back for them.
#[tokio::test]
async fn unsent_uploads_and_unused_blobs_are_forgotten() {
    for backend in backends().await {
        let store = &backend.store;
        let alice = guest(&**store, "alice").await;
        store.insert_upload(NewUpload { at: 10, ..upload("old", "aa", alice.id) }).await.unwrap();
        store.insert_upload(NewUpload { at: 30, ..upload("new", "bb", alice.id) }).await.unwrap();
        assert!(store.blob("aa").await.unwrap().is_some());
        assert_eq!(store.delete_unlinked_uploads(20).await.unwrap(), 1);
        assert!(store.upload("old").await.unwrap().is_none());
        assert_eq!(store.unused_blobs(20, 10).await.unwrap(), ["aa"]);
        let removed = Arc::new(Mutex::new(0));
        let remove = {
            let removed = Arc::clone(&removed);
            move || -> futures::future::BoxFuture<'static, std::io::Result<()>> {
                *removed.lock().unwrap() += 1;
                Box::pin(async { Ok(()) })
            }
        };
        assert!(!store.remove_blob("bb", 20, &remove).await.unwrap(), "still used");
        assert!(store.remove_blob("aa", 20, &remove).await.unwrap());
        assert_eq!(*removed.lock().unwrap(), 1);
        assert!(store.blob("aa").await.unwrap().is_none(), "{}", backend.name);
        let failing = || -> futures::future::BoxFuture<'static, std::io::Result<()>> {
            Box::pin(async { Err(std::io::Error::other("disk on fire")) })
        };
        store.delete_unlinked_uploads(40).await.unwrap();
        assert!(matches!(store.remove_blob("bb", 40, &failing).await, Err(StoreError::Io(_))));
        assert!(store.blob("bb").await.unwrap().is_some(), "kept when its bytes could not go");
    }
}

/// Closing writes out what was queued; after it, storing is refused. The
/// history epoch stays across a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_writes_out_what_is_queued_and_the_epoch_stays() {
    for backend in backends().await {
        let store = &backend.store;
        let epoch = store.history_epoch().await.unwrap();
        let alice = guest(&**store, "alice").await;
        let lobby = ConversationId::room("lobby");
        let mut writers = Vec::new();
        for n in 0..50 {
            let (store, alice, lobby) = (Arc::clone(store), alice.clone(), lobby.clone());
            writers.push(tokio::spawn(async move {
                store.insert_message(new(&lobby, &alice, &format!("m{n}"), None)).await.map(|_| ())
            }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        store.close().await;
        let mut acked = 0;
        for writer in writers {
            acked += usize::from(writer.await.unwrap().is_ok());
        }
        assert!(store.insert_message(new(&lobby, &alice, "late", None)).await.is_err(), "closed");
        let reopened = store::open(&backend.url, 2, None).await.unwrap();
        assert_eq!(reopened.recent(&lobby, 100).await.unwrap().len(), acked, "{}: every ack kept", backend.name);
        assert_eq!(reopened.history_epoch().await.unwrap(), epoch);
        reopened.close().await;
    }
}

#[tokio::test]
async fn a_database_url_picks_its_backend() {
    let unsupported = |result: StoreResult<Arc<dyn Store>>| matches!(result, Err(StoreError::Unsupported(_)));
    assert!(unsupported(store::open("mysql://localhost/rtca", 1, None).await));
    assert!(unsupported(store::open("rtca.db", 1, None).await));
    assert!(unsupported(store::open("sqlite::memory:", 1, None).await));
}

/// SQLite's own: its one writer stores many messages to a commit, yet each
/// keeps its own outcome. Someone else holds the write lock while a burst
/// queues up, so the writer's next batch surely holds many; the messages
/// that must fail (someone else's file; a sender that does not exist) fail
/// alone without costing the rest of their batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_a_burst_together_yet_each_message_alone() {
    use sqlx::Connection;

    let backend = backends().await.into_iter().find(|b| b.name == "sqlite").unwrap();
    let store = &backend.store;
    let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
    store.insert_upload(upload("bobs", "b1", bob.id)).await.unwrap();
    let lobby = ConversationId::room("lobby");
    let mut other = sqlx::SqliteConnection::connect(&backend.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();

    const WRITERS: usize = 300;
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, alice, lobby) = (Arc::clone(store), alice.clone(), lobby.clone());
        tasks.push(tokio::spawn(async move {
            let (text, cid) = (format!("hello {n}"), format!("c{n}"));
            store.insert_message(new(&lobby, &alice, &text, Some(&cid))).await
        }));
    }
    let theft = {
        let (store, alice, lobby) = (Arc::clone(store), alice.clone(), lobby.clone());
        tokio::spawn(async move {
            store.insert_message(NewMessage { media: Some("bobs"), ..new(&lobby, &alice, "mine", Some("t")) }).await
        })
    };
    let ghost = {
        let (store, lobby) = (Arc::clone(store), lobby.clone());
        let ghost = User { id: 9_999, name: "ghost".into() };
        tokio::spawn(async move { store.insert_message(new(&lobby, &ghost, "boo", Some("g"))).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();

    for task in tasks {
        stored(task.await.unwrap());
    }
    assert_eq!(theft.await.unwrap().unwrap(), Insert::MediaRefused);
    assert!(ghost.await.unwrap().is_err(), "a sender that does not exist is an error");
    assert_eq!(seqs(&store.recent(&lobby, 1000).await.unwrap()), (1..=WRITERS as i64).collect::<Vec<_>>());
    assert_eq!(backend.heard.messages().len(), WRITERS);
    let batches = backend.heard.batches.lock().unwrap().clone();
    assert!(batches.iter().any(|&n| n >= 10), "no batch held ten messages: {batches:?}");
}

/// PostgreSQL's own: several nodes share one database, each with its own
/// writer. Two stores on one database stand for two nodes writing into the
/// same conversations at once: `seq` and change numbers stay gapless
/// across both (the counter rows), each node hears its own commits in
/// `seq` order, and a retry sent to both nodes at once is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_share_gapless_numbers() {
    use rtca::server::store::{ChangeOutcome, Edit, MessageChange};

    let url = crate::common::postgres::new_database().await;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let heard = Arc::new(Heard::default());
        let sink: Arc<dyn CommitSink> = heard.clone();
        nodes.push((store::open(&url, 4, Some(sink)).await.unwrap(), heard));
    }
    let alice = guest(&*nodes[0].0, "alice").await;
    let bob = guest(&*nodes[1].0, "bob").await;
    let conversations = [ConversationId::room("lobby"), ConversationId::pair(alice.id, bob.id)];
    let root = stored(nodes[0].0.insert_message(new(&conversations[0], &alice, "react here", None)).await).0;

    let mut writers = Vec::new();
    for n in 0..200usize {
        let store = Arc::clone(&nodes[n % 2].0);
        let (alice, bob, conversation) = (alice.clone(), bob.clone(), conversations[n / 2 % 2].clone());
        writers.push(tokio::spawn(async move {
            if n % 5 == 4 {
                // A reaction: a change numbered in the lobby's stream.
                let emoji = format!("e{}", n % 3);
                let change = MessageChange {
                    id: root,
                    by: bob.id,
                    edit: Edit::React(&emoji),
                    at: 2,
                    max_reactions: 10,
                    on_commit: None,
                };
                assert!(matches!(store.change_message(change).await.unwrap(), ChangeOutcome::Changed(_)));
                return None;
            }
            let to = matches!(conversation, ConversationId::Pair(..)).then_some(&bob);
            let text = format!("m{n}");
            Some((
                conversation.clone(),
                stored(store.insert_message(NewMessage { to, ..new(&conversation, &alice, &text, None) }).await),
            ))
        }));
    }
    let mut acked: BTreeMap<ConversationId, BTreeSet<i64>> = BTreeMap::new();
    for writer in writers {
        if let Some((conversation, (_, seq))) = writer.await.unwrap() {
            assert!(acked.entry(conversation).or_default().insert(seq), "seq {seq} given twice");
        }
    }
    let store = &nodes[0].0;
    for conversation in &conversations {
        let seqs_acked: Vec<i64> = acked[conversation].iter().copied().collect();
        let last = store.last_seq(conversation).await.unwrap();
        assert_eq!(
            seqs_acked,
            (1 + i64::from(conversation.room_name().is_some())..=last).collect::<Vec<_>>(),
            "{conversation:?}"
        );
        for (node, (_, heard)) in nodes.iter().enumerate() {
            let mine: Vec<i64> = heard
                .messages()
                .iter()
                .filter(|m| &m.conversation == conversation && m.revision.change == 0)
                .map(|m| m.seq)
                .collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "node {node} heard {conversation:?} out of order: {mine:?}");
        }
    }
    // 40 reactions from two nodes: change numbers 1..=40, none twice.
    let mut changes: Vec<i64> = nodes
        .iter()
        .flat_map(|(_, heard)| heard.messages())
        .filter(|m| m.id == root && m.revision.change > 0)
        .map(|m| m.revision.change)
        .collect();
    changes.sort_unstable();
    assert_eq!(changes, (1..=40).collect::<Vec<_>>());
    assert_eq!(store.last_change(&conversations[0]).await.unwrap(), 40);

    // One retry reaching both nodes at once: stored once.
    let (first, second) = tokio::join!(
        nodes[0].0.insert_message(new(&conversations[0], &alice, "once", Some("c1"))),
        nodes[1].0.insert_message(new(&conversations[0], &alice, "once", Some("c1"))),
    );
    let ids: Vec<i64> = [first.unwrap(), second.unwrap()]
        .into_iter()
        .map(|insert| match insert {
            Insert::Stored { id, .. } => id,
            Insert::Duplicate(message) => message.id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids[0], ids[1], "one row for one cid");
    for (store, _) in &nodes {
        store.close().await;
    }
}
