//! The contract's Web Push part: the VAPID key kept once for every node,
//! devices kept per session (signing out forgets them) and bounded per
//! person, and the notification levels read for the people a message may
//! notify.

use rtca::protocol::{ConversationId, Notify, PushKeys, PushSubscription};

use super::{backends, guest};

fn device(endpoint: &str) -> PushSubscription {
    PushSubscription { endpoint: endpoint.to_owned(), keys: PushKeys { p256dh: "key".into(), auth: "auth".into() } }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_kept_per_session_and_bounded_and_the_key_is_kept_once() {
    for backend in backends().await {
        let store = &backend.store;
        let name = backend.name;
        assert_eq!(store.keep_meta("vapid_private_key", "first").await.unwrap(), "first", "{name}");
        assert_eq!(
            store.keep_meta("vapid_private_key", "second").await.unwrap(),
            "first",
            "{name}: the first one stays"
        );

        let (alice, bob) = (guest(&**store, "alice").await, guest(&**store, "bob").await);
        let (laptop, phone) = ([1u8; 32], [2u8; 32]);
        store.create_session(&laptop, alice.id, 0, i64::MAX).await.unwrap();
        store.create_session(&phone, alice.id, 0, i64::MAX).await.unwrap();
        store.add_push_device(alice.id, &laptop, &device("https://push.example/a"), 1, 2).await.unwrap();
        store.add_push_device(alice.id, &phone, &device("https://push.example/b"), 2, 2).await.unwrap();
        store.add_push_device(alice.id, &phone, &device("https://push.example/c"), 3, 2).await.unwrap();
        let mut kept: Vec<String> =
            store.push_devices(&[alice.id, bob.id]).await.unwrap().into_iter().map(|(_, d)| d.endpoint).collect();
        kept.sort();
        assert_eq!(kept, ["https://push.example/b", "https://push.example/c"], "{name}: two at most, the oldest went");

        // An endpoint alone takes nothing over: moving a device to another
        // session or person takes the keys it was kept with.
        let stolen = PushSubscription {
            keys: PushKeys { p256dh: "other".into(), auth: "other".into() },
            ..device("https://push.example/b")
        };
        store.create_session(&[3u8; 32], bob.id, 0, i64::MAX).await.unwrap();
        store.add_push_device(bob.id, &[3u8; 32], &stolen, 4, 2).await.unwrap();
        assert_eq!(store.push_devices(&[bob.id]).await.unwrap(), [], "{name}: still alice's");
        // Its owner's browser may give it new keys.
        let renewed = PushSubscription {
            keys: PushKeys { p256dh: "new".into(), auth: "new".into() },
            ..device("https://push.example/c")
        };
        store.add_push_device(alice.id, &phone, &renewed, 5, 2).await.unwrap();
        let keys: Vec<_> =
            store.push_devices(&[alice.id]).await.unwrap().into_iter().map(|(_, d)| d.keys.auth).collect();
        assert!(keys.contains(&"new".to_owned()), "{name}: {keys:?}");
        // Only its owner removes a device; anyone's, when the service says so.
        assert!(!store.remove_push_device("https://push.example/b", Some(bob.id)).await.unwrap(), "{name}");
        assert!(store.remove_push_device("https://push.example/b", None).await.unwrap(), "{name}");
        // Signing out forgets the session's devices.
        store.delete_session(&phone).await.unwrap();
        assert_eq!(store.push_devices(&[alice.id]).await.unwrap(), [], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn levels_are_read_for_the_people_asked_in_one_conversation() {
    for backend in backends().await {
        let store = &backend.store;
        let (alice, bob, carol) =
            (guest(&**store, "alice").await, guest(&**store, "bob").await, guest(&**store, "carol").await);
        let lobby = ConversationId::room("lobby");
        store.set_notify(alice.id, &lobby, Notify::Mute).await.unwrap();
        store.set_notify(bob.id, &lobby, Notify::All).await.unwrap();
        store.set_notify(carol.id, &ConversationId::pair(carol.id, alice.id), Notify::Mute).await.unwrap();
        let levels = store.levels_for(&lobby, &[alice.id, carol.id]).await.unwrap();
        assert_eq!(levels, [(alice.id, Notify::Mute)], "{}: bob was not asked, carol chose elsewhere", backend.name);
    }
}
