//! The SQLite store's group commit, on a real database file: many messages
//! written at once are committed together, yet each keeps its own outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtca::protocol::User;
use rtca::server::store::sqlite::SqliteStore;
use rtca::server::store::{CommitObserver, Insert, NewGuest, NewMessage, NewUpload, Store};
use sqlx::Connection;

/// Every commit report: `(conversation, first seq, last seq)`.
#[derive(Default)]
struct Commits(Mutex<Vec<(String, i64, i64)>>);

impl CommitObserver for Commits {
    fn committed(&self, conversation: &str, first_seq: i64, last_seq: i64) {
        self.0.lock().unwrap().push((conversation.to_owned(), first_seq, last_seq));
    }
}

fn message<'a>(room: &'a str, from: &'a User, text: &'a str, cid: &'a str, media: Option<&'a str>) -> NewMessage<'a> {
    NewMessage { room, from, to: None, members_only: room != "lobby", text, cid: Some(cid), at: 1, media }
}

/// Writers racing into one room: every message is stored once with a
/// gapless `seq`, a retry in the same burst gets the first copy, and the
/// messages that must fail (someone else's file; a sender who does not
/// exist) fail alone without costing the rest of their batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_commits_but_not_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let commits = Arc::new(Commits::default());
    let observer: Arc<dyn CommitObserver> = commits.clone();
    let store = Arc::new(SqliteStore::open(&url, 4, Some(observer)).await.expect("open the store"));
    let guest = |name: &'static str, token_hash: &'static [u8]| NewGuest {
        name,
        name_key: name,
        at: 1,
        token_hash,
        expires_at: 9,
    };
    let alice = store.create_guest_with_session(guest("alice", b"alice's token")).await.unwrap();
    let bob = store.create_guest_with_session(guest("bob", b"bob's token")).await.unwrap();
    assert_eq!(store.session_user(b"bob's token", 2).await.unwrap(), Some(bob.clone()));
    store
        .insert_upload(NewUpload {
            id: "bobs-file",
            sha256: "00",
            owner: bob.id,
            name: "b.txt",
            mime: "application/pdf",
            size: 1,
            width: None,
            height: None,
            thumb_mime: None,
            at: 1,
        })
        .await
        .unwrap();

    store.create_room("club", false, alice.id, 1).await.unwrap().unwrap();
    // Someone else holds the write lock while the burst queues up, so the
    // writer's next batch surely holds many of them.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();

    const WRITERS: usize = 300;
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, alice) = (Arc::clone(&store), alice.clone());
        tasks.push(tokio::spawn(async move {
            let (text, cid) = (format!("hello {n}"), format!("c{n}"));
            store.insert_message(message("lobby", &alice, &text, &cid, None)).await
        }));
    }
    // Alice attaches Bob's file, a sender that does not exist writes, and
    // Alice retries message 7: all in the middle of the burst.
    let theft = {
        let (store, alice) = (Arc::clone(&store), alice.clone());
        tokio::spawn(async move {
            store.insert_message(message("lobby", &alice, "mine now", "theft", Some("bobs-file"))).await
        })
    };
    let ghost = {
        let store = Arc::clone(&store);
        let ghost = User { id: 9_999, name: "ghost".into() };
        tokio::spawn(async move { store.insert_message(message("lobby", &ghost, "boo", "ghost", None)).await })
    };
    // Alice made a room (before the lock below); Bob did not join it.
    let member = {
        let (store, alice) = (Arc::clone(&store), alice.clone());
        tokio::spawn(async move { store.insert_message(message("club", &alice, "welcome", "a1", None)).await })
    };
    let outsider = {
        let (store, bob) = (Arc::clone(&store), bob.clone());
        tokio::spawn(async move { store.insert_message(message("club", &bob, "let me in", "b1", None)).await })
    };
    let retry = {
        let (store, alice) = (Arc::clone(&store), alice.clone());
        tokio::spawn(async move { store.insert_message(message("lobby", &alice, "hello 7", "c7", None)).await })
    };

    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();

    let mut seqs = BTreeSet::new();
    for (n, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap().expect("a good message is stored") {
            Insert::Stored(m) => {
                assert_eq!(
                    (m.text.as_str(), m.from.name.as_str(), m.room.as_str()),
                    (&*format!("hello {n}"), "alice", "lobby")
                );
                assert!(seqs.insert(m.seq), "seq {} given twice", m.seq);
            }
            Insert::Duplicate(first) => assert_eq!(n, 7, "only message 7 was sent twice: {first:?}"),
            other => panic!("message {n}: {other:?}"),
        }
    }
    assert_eq!(theft.await.unwrap().unwrap(), Insert::MediaRefused, "someone else's file is refused");
    assert!(ghost.await.unwrap().is_err(), "a sender that does not exist is an error");
    assert_eq!(outsider.await.unwrap().unwrap(), Insert::NotAMember);
    match retry.await.unwrap().unwrap() {
        Insert::Duplicate(first) => assert_eq!(first.text, "hello 7"),
        // The retry won the race; then the original is the duplicate.
        Insert::Stored(m) => assert!(seqs.insert(m.seq)),
        other => panic!("the retry: {other:?}"),
    }
    assert_eq!(seqs.len(), WRITERS, "each message stored once");
    assert_eq!(seqs.iter().copied().collect::<Vec<_>>(), (1..=WRITERS as i64).collect::<Vec<_>>(), "gapless seq");

    match member.await.unwrap().unwrap() {
        Insert::Stored(m) => assert_eq!((m.room.as_str(), m.seq), ("club", 1)),
        other => panic!("a member's message: {other:?}"),
    }
    let club = store.recent("club", 10).await.unwrap();
    assert_eq!(club.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["welcome"]);
    let stored = store.recent("lobby", 1000).await.unwrap();
    assert_eq!(
        stored.len(),
        WRITERS,
        "nothing else was kept: {:?}",
        stored.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    assert!(stored.iter().all(|m| m.media.is_none()));
    let file = store.upload("bobs-file").await.unwrap().unwrap();
    assert!(file.carrier.is_none(), "the refused message did not take the file");

    // The commits reported every stored seq once, and some held many.
    let commits = commits.0.lock().unwrap().clone();
    let mut reported: Vec<i64> =
        commits.iter().filter(|(room, ..)| room == "lobby").flat_map(|(_, first, last)| *first..=*last).collect();
    reported.sort_unstable();
    assert_eq!(reported, (1..=WRITERS as i64).collect::<Vec<_>>());
    assert!(commits.iter().any(|(_, first, last)| last - first >= 10), "no batch held ten messages: {commits:?}");
    assert!(commits.contains(&("club".to_owned(), 1, 1)));
}
