//! The SQLite store's group commit, on a real database file: many messages
//! written at once are committed together, yet each keeps its own outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use rtca::server::store::sqlite::SqliteStore;
use rtca::server::store::{NewMessage, NewUpload, Store};

async fn open_store(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    Arc::new(SqliteStore::open(&url, 4).await.expect("open the store"))
}

fn message<'a>(room: &'a str, from: i64, text: &'a str, cid: &'a str, media: Option<&'a str>) -> NewMessage<'a> {
    NewMessage { room, from, to: None, text, cid: Some(cid), at: 1, media }
}

/// Writers racing into one room: every message is stored once with a
/// gapless `seq`, a retry in the same burst gets the first copy, and the
/// messages that must fail (someone else's file; a sender who does not
/// exist) fail alone without costing the rest of their batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_commits_but_not_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let alice = store.create_guest("alice", "alice", 1).await.unwrap();
    let bob = store.create_guest("bob", "bob", 1).await.unwrap();
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

    const WRITERS: usize = 300;
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let (text, cid) = (format!("hello {n}"), format!("c{n}"));
            store.insert_message(message("lobby", alice.id, &text, &cid, None)).await
        }));
    }
    // Alice attaches Bob's file, a sender that does not exist writes, and
    // Alice retries message 7: all in the middle of the burst.
    let theft = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store.insert_message(message("lobby", alice.id, "mine now", "theft", Some("bobs-file"))).await
        })
    };
    let ghost = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.insert_message(message("lobby", 9_999, "boo", "ghost", None)).await })
    };
    let retry = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.insert_message(message("lobby", alice.id, "hello 7", "c7", None)).await })
    };

    let mut seqs = BTreeSet::new();
    for task in tasks {
        let inserted = task.await.unwrap().expect("a good message is stored").expect("no file to refuse");
        if !inserted.duplicate {
            assert!(seqs.insert(inserted.message.seq), "seq {} given twice", inserted.message.seq);
        }
    }
    assert!(theft.await.unwrap().unwrap().is_none(), "someone else's file is refused");
    assert!(ghost.await.unwrap().is_err(), "a sender that does not exist is an error");
    let retried = retry.await.unwrap().unwrap().unwrap();
    assert_eq!(retried.message.text, "hello 7");
    if !retried.duplicate {
        // The retry won the race; then the original is the duplicate.
        assert!(seqs.insert(retried.message.seq));
    }
    assert_eq!(seqs.len(), WRITERS, "each message stored once");
    assert_eq!(seqs.iter().copied().collect::<Vec<_>>(), (1..=WRITERS as i64).collect::<Vec<_>>(), "gapless seq");

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
}
