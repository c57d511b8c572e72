//! The contract's read state: marks never move back, many are written in
//! one call, a mark not written yet is a floor under what is read back,
//! and unread counts leave out one's own messages.

use rtca::protocol::ConversationId;
use rtca::server::store::ReadMark;

use super::{backends, guest, new, stored};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_marks_move_forward_in_batches_under_floors() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        let room = ConversationId::room("lobby");
        let pair = ConversationId::pair(alice.id, bob.id);
        for n in 0..5 {
            let text = format!("lobby {n}");
            stored(store.insert_message(new(&room, &bob, &text, None)).await);
        }
        let to_bob = rtca::server::store::NewMessage { to: Some(&bob), ..new(&pair, &alice, "psst", None) };
        stored(store.insert_message(to_bob).await);
        let to_alice = rtca::server::store::NewMessage { to: Some(&alice), ..new(&pair, &bob, "hi", None) };
        stored(store.insert_message(to_alice).await);

        // Several people and conversations in one call; a mark further
        // back changes nothing.
        // A mark of someone gone (a swept guest) is dropped, not the batch.
        let marks = [
            ReadMark::new(alice.id, &room, 3),
            ReadMark::new(987_654, &room, 4),
            ReadMark::new(bob.id, &pair, 2),
            ReadMark::new(alice.id, &pair, 1),
        ];
        store.mark_reads(&marks).await.unwrap();
        store.mark_reads(&[ReadMark::new(alice.id, &room, 1)]).await.unwrap();
        let reads = store.read_states(alice.id, &[(room.clone(), 0), (pair.clone(), 0)]).await.unwrap();
        let got: Vec<_> = reads.iter().map(|r| (r.conversation(), r.seq, r.unread, r.peer_seq)).collect();
        assert_eq!(
            got,
            [(Some(room.clone()), 3, 2, None), (Some(pair.clone()), 1, 1, Some(2))],
            "{}: two of bob's after 3 in the lobby; bob's reply unread, and bob read both",
            backend.name
        );
        // A mark not written yet is a floor: counts are from there.
        let reads = store.read_states(alice.id, &[(room.clone(), 4), (pair.clone(), 0)]).await.unwrap();
        assert_eq!((reads[0].seq, reads[0].unread), (4, 1), "{}", backend.name);
        let reads = store.read_states(alice.id, &[(room.clone(), 2)]).await.unwrap();
        assert_eq!(reads[0].seq, 3, "{}: a lower floor changes nothing", backend.name);
        // Unread counts leave one's own messages out.
        let reads = store.read_states(bob.id, &[(room.clone(), 0)]).await.unwrap();
        assert_eq!(reads[0].unread, 0, "{}: bob wrote them all", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_are_kept_and_counted_per_person_until_read() {
    use rtca::protocol::{Everyone, Mentions};
    use rtca::server::store::NewMessage;
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        let room = ConversationId::room("lobby");
        let mentions = Mentions { users: vec![bob.id], everyone: None };
        let named = NewMessage { mentions: mentions.clone(), called: vec![bob.id], ..new(&room, &alice, "@bob", None) };
        stored(store.insert_message(named).await);
        // Someone no longer there (a swept guest) is skipped, not the message.
        let here = Mentions { users: Vec::new(), everyone: Some(Everyone::Here) };
        let called = vec![bob.id, 987_654];
        let (_, here_seq) = stored(
            store
                .insert_message(NewMessage { mentions: here.clone(), called, ..new(&room, &alice, "@here", None) })
                .await,
        );
        stored(store.insert_message(new(&room, &alice, "nothing for bob", None)).await);

        let page = store.page(&room, rtca::server::store::Cursor::After(0), 10).await.unwrap();
        let kept: Vec<_> = page.iter().map(|m| m.mentions.clone()).collect();
        assert_eq!(kept, [mentions, here, Mentions::default()], "{}", backend.name);
        let counts = |reads: Vec<rtca::protocol::ReadState>| (reads[0].unread, reads[0].mentions);
        assert_eq!(counts(store.read_states(bob.id, &[(room.clone(), 0)]).await.unwrap()), (3, 2), "{}", backend.name);
        assert_eq!(
            counts(store.read_states(alice.id, &[(room.clone(), 0)]).await.unwrap()),
            (0, 0),
            "{}",
            backend.name
        );
        let reads = store.read_states(bob.id, &[(room.clone(), here_seq - 1)]).await.unwrap();
        assert_eq!(counts(reads), (2, 1), "{}: the @here after what bob read", backend.name);
        // Bob's mentions, newest first, a page at a time; none of alice's.
        let texts = |found: Vec<rtca::protocol::Message>| found.into_iter().map(|m| m.text).collect::<Vec<_>>();
        let found = store.mentions_of(bob.id, None, 10).await.unwrap();
        let newest = found[0].id;
        assert_eq!(texts(found), ["@here", "@bob"], "{}", backend.name);
        assert_eq!(texts(store.mentions_of(bob.id, Some(newest), 10).await.unwrap()), ["@bob"], "{}", backend.name);
        assert!(store.mentions_of(alice.id, None, 10).await.unwrap().is_empty(), "{}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_levels_are_kept_per_person_and_the_default_is_no_choice() {
    use rtca::protocol::Notify;
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        let (lobby, pair) = (ConversationId::room("lobby"), ConversationId::pair(alice.id, bob.id));
        assert_eq!(store.notify_levels(alice.id, 10).await.unwrap(), [], "{}: nothing chosen", backend.name);

        store.set_notify(alice.id, &lobby, Notify::Mute).await.unwrap();
        store.set_notify(alice.id, &pair, Notify::Mentions).await.unwrap();
        store.set_notify(alice.id, &pair, Notify::Mute).await.unwrap();
        // By conversation key: "dm:…" before "lobby".
        let levels = store.notify_levels(alice.id, 10).await.unwrap();
        assert_eq!(levels, [(pair.clone(), Notify::Mute), (lobby.clone(), Notify::Mute)], "{}", backend.name);
        assert_eq!(store.notify_levels(bob.id, 10).await.unwrap(), [], "{}: alice's, not bob's", backend.name);
        let bounded = store.notify_levels(alice.id, 1).await.unwrap();
        assert_eq!(bounded, [(pair.clone(), Notify::Mute)], "{}: at most as many as asked", backend.name);

        // Choosing a conversation's default is no choice at all.
        store.set_notify(alice.id, &lobby, Notify::Mentions).await.unwrap();
        store.set_notify(alice.id, &pair, Notify::All).await.unwrap();
        assert_eq!(store.notify_levels(alice.id, 10).await.unwrap(), [], "{}: back to defaults", backend.name);
    }
}
