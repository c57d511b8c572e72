//! The contract's changes: numbered per conversation without gaps, heard
//! in the same commit order as messages, checked in their transaction,
//! and a deletion keeps nothing of what a message said.

use std::sync::Arc;

use rtca::protocol::{ConversationId, Message};
use rtca::server::store::{ChangeOutcome, Edit, MessageChange, Store};

use super::{backends, guest, new, stored};

fn change(id: i64, by: i64, edit: Edit<'_>) -> MessageChange<'_> {
    MessageChange { id, by, edit, at: 9, max_reactions: 3, on_commit: None }
}

async fn changed(store: &dyn Store, request: MessageChange<'_>) -> Message {
    match store.change_message(request).await.unwrap() {
        ChangeOutcome::Changed(message) => *message,
        other => panic!("not changed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_numbered_per_conversation_and_heard_in_commit_order() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        let lobby = ConversationId::room("lobby");
        let pair = ConversationId::pair(alice.id, bob.id);
        let (first, _) = stored(store.insert_message(new(&lobby, &alice, "first", None)).await);
        let (private, _) = stored(
            store
                .insert_message(rtca::server::store::NewMessage { to: Some(&bob), ..new(&pair, &alice, "psst", None) })
                .await,
        );
        // Racing writers: reactions to both conversations, and new messages.
        let mut writers = Vec::new();
        for n in 0..60usize {
            let (store, alice, bob, lobby) = (Arc::clone(store), alice.clone(), bob.clone(), lobby.clone());
            writers.push(tokio::spawn(async move {
                let emoji = ["a", "b", "c"][n % 3];
                match n % 4 {
                    0 => drop(stored(store.insert_message(new(&lobby, &alice, "more", None)).await)),
                    1 => drop(changed(&*store, change(private, bob.id, Edit::React(emoji))).await),
                    _ => drop(changed(&*store, change(first, bob.id, Edit::React(emoji))).await),
                }
            }));
        }
        for writer in writers {
            writer.await.unwrap();
        }
        let heard = backend.heard.messages();
        for conversation in [&lobby, &pair] {
            let numbers: Vec<i64> = heard
                .iter()
                .filter(|m| &m.conversation == conversation && m.revision.change > 0)
                .map(|m| m.revision.change)
                .collect();
            let expected: Vec<i64> = (1..=numbers.len() as i64).collect();
            assert_eq!(numbers, expected, "{}: gapless, heard in order", backend.name);
            assert_eq!(store.last_change(conversation).await.unwrap(), numbers.len() as i64);
        }
        // A change is heard after the message it changes.
        let first_heard = heard.iter().position(|m| m.id == first).unwrap();
        assert!(heard.iter().position(|m| m.id == first && m.revision.change > 0).unwrap() > first_heard);
        // Both read back in their latest state, once, by change number.
        let since = store.changed_since(&lobby, 0, 10).await.unwrap();
        assert_eq!(since.iter().map(|m| m.id).collect::<Vec<_>>(), [first], "{}", backend.name);
        assert_eq!(since[0], *heard.iter().rev().find(|m| m.id == first).unwrap());
    }
}

#[tokio::test]
async fn changes_are_checked_in_their_transaction_and_deletion_keeps_nothing() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob, carol) =
            (guest(&**store, "alice").await, guest(&**store, "bob").await, guest(&**store, "carol").await);
        let pair = ConversationId::pair(alice.id, bob.id);
        let to_bob = rtca::server::store::NewMessage { to: Some(&bob), ..new(&pair, &alice, "hi bob", None) };
        let (id, _) = stored(store.insert_message(to_bob).await);
        let outcome = |request| async move { store.change_message(request).await.unwrap() };
        assert_eq!(outcome(change(id, carol.id, Edit::React("x"))).await, ChangeOutcome::NoSuchMessage);
        assert_eq!(outcome(change(id, bob.id, Edit::Text("mine"))).await, ChangeOutcome::NotYours);
        assert_eq!(outcome(change(id, alice.id, Edit::Text(""))).await, ChangeOutcome::EmptyText);
        assert_eq!(outcome(change(id + 100, alice.id, Edit::Delete)).await, ChangeOutcome::NoSuchMessage);
        for emoji in ["a", "b", "c"] {
            changed(&**store, change(id, bob.id, Edit::React(emoji))).await;
        }
        assert_eq!(outcome(change(id, alice.id, Edit::React("d"))).await, ChangeOutcome::TooManyReactions);
        let edited = changed(&**store, change(id, alice.id, Edit::Text("hi, bob"))).await;
        assert_eq!((edited.text.as_str(), edited.revision.edited_at, edited.revision.change), ("hi, bob", Some(9), 4));
        assert!(matches!(outcome(change(id, alice.id, Edit::Text("hi, bob"))).await, ChangeOutcome::Unchanged(_)));
        let gone = changed(&**store, change(id, alice.id, Edit::Delete)).await;
        assert_eq!((gone.text.as_str(), gone.revision.deleted, gone.revision.reactions.len()), ("", true, 0));
        assert_eq!(outcome(change(id, bob.id, Edit::React("a"))).await, ChangeOutcome::Deleted);
        assert!(matches!(outcome(change(id, alice.id, Edit::Delete)).await, ChangeOutcome::Unchanged(_)));
        let page = store.recent(&pair, 10).await.unwrap();
        assert_eq!(page, vec![gone], "{}", backend.name);
    }
}
