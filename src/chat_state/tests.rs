//! ChatState as the server drives it: events in, signals out.

#![allow(clippy::unwrap_used)]
use super::*;
use serde_json::json;

impl ChatState {
    /// [`ChatState::apply`] on a payload written with `json!`.
    pub(crate) fn apply_json(&self, name: &str, data: serde_json::Value) -> Option<Gap> {
        self.apply(name, &data.to_string())
    }
}

fn user(id: i64, name: &str) -> serde_json::Value {
    json!({ "id": id, "name": name })
}

#[test]
fn events_drive_presence_messages_and_notices() {
    // Signals live in an owner's arena, as they do inside the app.
    Owner::new_root(None).with(events_drive_presence_messages_and_notices_inner);
}

fn events_drive_presence_messages_and_notices_inner() {
    let chat = ChatState::new(ChatSnapshot::default());
    chat.apply_json("session", json!({ "user": user(1, "alice") }));
    chat.apply_json("presence", json!({ "users": [user(1, "alice")] }));
    chat.apply_json("online", json!({ "user": user(2, "bob"), "at": 1 }));
    chat.apply_json("online", json!({ "user": user(2, "bobby"), "at": 2 }));
    assert_eq!(chat.online.get_untracked().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["alice", "bobby"]);
    chat.apply_json("offline", json!({ "user": user(2, "bobby"), "at": 3 }));
    assert_eq!(chat.online.get_untracked().len(), 1);
    // Batched: carol and dave arrive, alice leaves, all in one event.
    let batch = json!({ "online": [user(4, "dave"), user(3, "Carol")], "offline": [user(1, "alice")], "at": 4 });
    chat.apply_json("presence_changes", batch);
    assert_eq!(chat.online.get_untracked().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["Carol", "dave"]);
    chat.apply_json("presence_changes", json!({ "online": [user(1, "alice")], "offline": [user(4, "dave")], "at": 5 }));
    assert_eq!(chat.online.get_untracked().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["alice", "Carol"]);

    let message = |id: i64, seq: i64| json!({ "id": id, "seq": seq, "room": "lobby", "from": user(2, "bob"), "text": "t", "at": 0, "cid": null });
    chat.apply_json("message", message(11, 2));
    chat.apply_json("message", message(10, 1));
    chat.apply_json("message", message(11, 2));
    let lobby =
        |chat: &ChatState| chat.room_messages.with_untracked(|rooms| rooms.get("lobby").cloned().unwrap_or_default());
    assert_eq!(lobby(&chat).iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);

    let secret = json!({ "id": 20, "seq": 1, "from": user(2, "bob"), "to": user(1, "alice"), "text": "psst", "at": 0, "cid": null });
    chat.apply_json("secret", secret.clone());
    chat.apply_json("secret", secret);
    assert_eq!(chat.secrets.get_untracked().len(), 1);
    assert_eq!(chat.unread.get_untracked().get(&2), Some(&1));
    chat.open(Conversation::Direct(User { id: 2, name: "bob".into() }));
    assert!(chat.unread.get_untracked().is_empty());

    chat.apply_json("error", json!({ "code": "unknown_event", "message": "unknown event `x`" }));
    assert_eq!(chat.notice.get_untracked().as_deref(), Some("unknown event `x`"));
    chat.apply_json("message", json!("garbage"));
    chat.apply_json("no-such-event", json!({}));
    assert_eq!(lobby(&chat).len(), 2);
}

#[test]
fn a_live_message_past_the_next_seq_reports_the_gap() {
    Owner::new_root(None).with(a_live_message_past_the_next_seq_reports_the_gap_inner);
}

fn a_live_message_past_the_next_seq_reports_the_gap_inner() {
    let chat = ChatState::new(ChatSnapshot { room: LOBBY.into(), ..ChatSnapshot::default() });
    chat.apply_json("session", json!({ "user": user(1, "alice") }));
    let message = |seq: i64| json!({ "id": 100 + seq, "seq": seq, "room": "lobby", "from": user(2, "bob"), "text": "t", "at": 0, "cid": null });
    // The first message of a room I hold nothing of has nothing to follow.
    assert_eq!(chat.apply_json("message", message(5)), None);
    assert_eq!(chat.apply_json("message", message(6)), None);
    assert_eq!(chat.apply_json("message", message(9)), Some(Gap::Room { room: LOBBY.into(), seen: 6 }));
    // Filling it, late arrivals and repeats are no gap.
    chat.receive_missed_room(serde_json::from_value(json!([message(7), message(8)])).unwrap());
    assert_eq!(chat.apply_json("message", message(8)), None);
    assert_eq!(chat.apply_json("message", message(10)), None);
    assert_eq!(chat.last_room_seq(LOBBY), Some(10));

    let secret = |seq: i64| json!({ "id": 200 + seq, "seq": seq, "from": user(2, "bob"), "to": user(1, "alice"), "text": "psst", "at": seq, "cid": null });
    assert_eq!(chat.apply_json("secret", secret(1)), None);
    assert_eq!(chat.apply_json("secret", secret(2)), None);
    assert_eq!(chat.apply_json("secret", secret(4)), Some(Gap::Direct { peer: 2, seen: Some(2) }));
    chat.receive_missed_secrets(serde_json::from_value(json!([secret(3)])).unwrap());
    assert_eq!(chat.apply_json("secret", secret(5)), None);
    assert_eq!(chat.secrets.get_untracked().iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    // Presence: batches follow the list's version; one skipped is a gap.
    chat.apply_json("presence", json!({ "users": [user(1, "alice")], "version": 7 }));
    assert_eq!(
        chat.apply_json(
            "presence_changes",
            json!({ "online": [user(2, "bob")], "offline": [], "at": 1, "version": 8 })
        ),
        None
    );
    let skipped = json!({ "online": [user(4, "dave")], "offline": [], "at": 3, "version": 10 });
    assert_eq!(chat.apply_json("presence_changes", skipped), Some(Gap::Presence));
    assert_eq!(chat.online.get_untracked().len(), 3);
    chat.apply_json(
        "presence",
        json!({ "users": [user(1, "alice"), user(3, "carol"), user(4, "dave")], "version": 10 }),
    );
    assert_eq!(
        chat.apply_json(
            "presence_changes",
            json!({ "online": [], "offline": [user(3, "carol")], "at": 4, "version": 11 })
        ),
        None
    );
    assert_eq!(chat.online.get_untracked().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["alice", "dave"]);
    // After a reconnect (or a server restart) the numbering is the new
    // connection's: its first batch is no loss.
    chat.reconnected();
    let after_restart = json!({ "online": [user(3, "carol")], "offline": [], "at": 5, "version": 2 });
    assert_eq!(chat.apply_json("presence_changes", after_restart), None);
    // A conversation I knew nothing of, its first message lost.
    let from_carol = json!({ "id": 300, "seq": 2, "from": user(3, "carol"), "to": user(1, "alice"), "text": "hi", "at": 9, "cid": null });
    assert_eq!(chat.apply_json("secret", from_carol), Some(Gap::Direct { peer: 3, seen: None }));
}

#[test]
fn a_restart_keeps_what_came_after_its_page_and_unfilled_gaps_are_bounded() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot { room: LOBBY.into(), ..ChatSnapshot::default() });
        let message = |seq: i64| {
            serde_json::from_value::<ChatMessage>(json!({ "id": seq, "seq": seq, "room": "lobby", "from": user(2, "bob"), "text": "t", "at": 0, "cid": null })).unwrap()
        };
        chat.merge_room(LOBBY, vec![message(1), message(2), message(900)]);
        chat.restart_room(LOBBY, vec![message(800), message(850)]);
        let seqs = chat.room_messages.with_untracked(|rooms| rooms[LOBBY].iter().map(|m| m.seq).collect::<Vec<_>>());
        assert_eq!(seqs, [800, 850, 900]);

        for peer in 0..(MAX_UNFILLED_GAPS as i64 + 5) {
            chat.keep_unfilled(Gap::Direct { peer, seen: Some(1) });
            chat.keep_unfilled(Gap::Direct { peer, seen: Some(1) });
        }
        let kept = chat.unfilled_gaps.get_value();
        assert_eq!(kept.len(), MAX_UNFILLED_GAPS);
        assert_eq!(kept.first(), Some(&Gap::Direct { peer: 5, seen: Some(1) }));
        chat.start_over("new".into());
        assert!(chat.unfilled_gaps.get_value().is_empty());
    });
}

#[test]
fn messages_stay_in_seq_order_without_duplicates() {
    let mut list = vec![1, 2, 4];
    insert_by_seq(&mut list, 3, |m| *m, |m| *m);
    insert_by_seq(&mut list, 4, |m| *m, |m| *m);
    insert_by_seq(&mut list, 0, |m| *m, |m| *m);
    insert_by_seq(&mut list, 9, |m| *m, |m| *m);
    assert_eq!(list, vec![0, 1, 2, 3, 4, 9]);
}

#[test]
fn clock_time_wraps_midnight() {
    assert_eq!(clock_time(0, 0), "00:00");
    assert_eq!(clock_time(0, -60), "23:00");
    assert_eq!(clock_time((13 * 60 + 7) * 60_000, 120), "15:07");
}

#[test]
fn rooms_stay_by_name_and_conversations_newest_first() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot::default());
        let room = |name: &str, members: usize| RoomInfo {
            name: name.into(),
            private: false,
            members,
            online: 0,
            joined: true,
            last_seq: 0,
        };
        for name in ["lobby", "dev", "zoo", "art", "dev"] {
            chat.note_room(room(name, 1));
        }
        chat.note_room(room("zoo", 7));
        let rooms = chat.rooms.get_untracked();
        assert_eq!(rooms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["art", "dev", "lobby", "zoo"]);
        assert_eq!(rooms[3].members, 7);

        let person = |id: i64| User { id, name: format!("u{id}") };
        chat.note_conversation(&person(1), 5, 100);
        chat.note_conversation(&person(2), 1, 300);
        chat.note_conversation(&person(3), 9, 200);
        chat.note_conversation(&person(4), 2, 200);
        // Older news changes neither the order nor what is known.
        chat.note_conversation(&person(2), 0, 50);
        let order = |chat: &ChatState| {
            chat.conversations.get_untracked().iter().map(|c| (c.with.id, c.last_seq, c.last_at)).collect::<Vec<_>>()
        };
        assert_eq!(order(&chat), [(2, 1, 300), (3, 9, 200), (4, 2, 200), (1, 5, 100)]);
        // Newer news moves a conversation to the top; same time, lower id first.
        chat.note_conversation(&User { id: 1, name: "renamed".into() }, 6, 300);
        assert_eq!(order(&chat), [(1, 6, 300), (2, 1, 300), (3, 9, 200), (4, 2, 200)]);
        assert_eq!(chat.conversations.get_untracked()[0].with.name, "renamed");
        chat.note_conversation(&person(4), 3, 250);
        assert_eq!(order(&chat), [(1, 6, 300), (2, 1, 300), (4, 3, 250), (3, 9, 200)]);
    });
}
