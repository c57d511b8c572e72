//! ChatState as the server drives it: events in, signals out.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::protocol::{MessageAck, LOBBY};
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

/// The messages I hold of a conversation.
fn held(chat: &ChatState, id: &ConversationId) -> Vec<Message> {
    chat.messages.with_untracked(|all| all.get(id).cloned().unwrap_or_default())
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
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
    let lobby = |chat: &ChatState| held(chat, &ConversationId::room(LOBBY));
    assert_eq!(seqs(&lobby(&chat)), [1, 2]);

    let secret = json!({ "id": 20, "seq": 1, "from": user(2, "bob"), "to": user(1, "alice"), "text": "psst", "at": 0, "cid": null });
    chat.apply_json("secret", secret.clone());
    chat.apply_json("secret", secret);
    let with_bob = ConversationId::pair(1, 2);
    assert_eq!(held(&chat, &with_bob).len(), 1);
    assert_eq!(chat.unread.get_untracked().get(&with_bob), Some(&1));
    assert_eq!(chat.conversations.get_untracked()[0].with.name, "bob", "the private conversation is listed");
    chat.open(Conversation::Direct(User { id: 2, name: "bob".into() }));
    assert_eq!(chat.unread.get_untracked().get(&with_bob), None, "read once opened");
    assert_eq!(chat.unread.get_untracked().get(&ConversationId::room(LOBBY)), Some(&2), "bob's two in the lobby");

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
    let lobby = ConversationId::room(LOBBY);
    assert_eq!(chat.apply_json("message", message(9)), Some(Gap::Conversation { id: lobby.clone(), seen: 6 }));
    // Filling it, late arrivals and repeats are no gap.
    chat.receive_missed(page::<ChatMessage>(json!([message(7), message(8)])));
    assert_eq!(chat.apply_json("message", message(8)), None);
    assert_eq!(chat.apply_json("message", message(10)), None);
    assert_eq!(chat.known_seq(&lobby), Some(10));

    let secret = |seq: i64| json!({ "id": 200 + seq, "seq": seq, "from": user(2, "bob"), "to": user(1, "alice"), "text": "psst", "at": seq, "cid": null });
    assert_eq!(chat.apply_json("secret", secret(1)), None);
    assert_eq!(chat.apply_json("secret", secret(2)), None);
    let with_bob = ConversationId::pair(1, 2);
    assert_eq!(chat.apply_json("secret", secret(4)), Some(Gap::Conversation { id: with_bob.clone(), seen: 2 }));
    chat.receive_missed(page::<SecretMessage>(json!([secret(3)])));
    assert_eq!(chat.apply_json("secret", secret(5)), None);
    assert_eq!(seqs(&held(&chat, &with_bob)), [1, 2, 3, 4, 5]);
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
    // A conversation I knew nothing of, its first message lost: nothing to
    // fill from, but I do not hold its latest page, so opening it loads it.
    let from_carol = json!({ "id": 300, "seq": 2, "from": user(3, "carol"), "to": user(1, "alice"), "text": "hi", "at": 9, "cid": null });
    assert_eq!(chat.apply_json("secret", from_carol), None);
    assert!(!chat.holds_latest(&ConversationId::pair(1, 3)));
}

/// A page as the server sends it, in either wire shape, as messages.
fn page<T: serde::de::DeserializeOwned + Into<Message>>(json: serde_json::Value) -> Vec<Message> {
    serde_json::from_value::<Vec<T>>(json).unwrap().into_iter().map(Into::into).collect()
}

#[test]
fn a_restart_keeps_what_came_after_its_page_and_unfilled_gaps_are_bounded() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot { room: LOBBY.into(), ..ChatSnapshot::default() });
        let lobby = ConversationId::room(LOBBY);
        chat.merge_page(&lobby, vec![room_message(1), room_message(2), room_message(900)]);
        chat.restart(&lobby, vec![room_message(800), room_message(850)], 0);
        assert_eq!(seqs(&held(&chat, &lobby)), [800, 850, 900]);

        let gap = |n: i64| Gap::Conversation { id: ConversationId::pair(0, n), seen: 1 };
        for peer in 0..(MAX_UNFILLED_GAPS as i64 + 5) {
            chat.keep_unfilled(gap(peer));
            chat.keep_unfilled(gap(peer));
        }
        let kept = chat.unfilled_gaps.get_value();
        assert_eq!(kept.len(), MAX_UNFILLED_GAPS);
        assert_eq!(kept.first(), Some(&gap(5)));
        chat.start_over("new".into());
        assert!(chat.unfilled_gaps.get_value().is_empty());
    });
}

/// A lobby message from bob with `id` and `seq` both `seq`.
fn room_message(seq: i64) -> Message {
    Message {
        id: seq,
        seq,
        conversation: ConversationId::room(LOBBY),
        from: User { id: 2, name: "bob".into() },
        to: None,
        text: "t".into(),
        at: 0,
        cid: None,
        media: None,
        reply_to: None,
        in_thread: None,
        revision: Default::default(),
        mentions: Default::default(),
    }
}

#[test]
fn messages_stay_in_seq_order_without_duplicates_and_within_the_cap() {
    let mut list: Vec<Message> = [1, 2, 4].into_iter().map(room_message).collect();
    for seq in [3, 4, 0, 9] {
        conversations::insert_by_seq(&mut list, room_message(seq));
    }
    assert_eq!(seqs(&list), [0, 1, 2, 3, 4, 9]);
    let mut list = Vec::new();
    for seq in 1..=(MAX_KEPT_MESSAGES as i64 + 10) {
        conversations::insert_by_seq(&mut list, room_message(seq));
    }
    assert_eq!(list.len(), MAX_KEPT_MESSAGES);
    assert_eq!(list.first().map(|m| m.seq), Some(11), "the oldest go first");
}

/// Every conversation keeps its own messages, within its own cap: a busy
/// private conversation never pushes out another's.
#[test]
fn each_conversation_keeps_its_own_messages() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot::default());
        chat.apply_json("session", json!({ "user": user(1, "alice") }));
        let secret = |peer: i64, seq: i64| json!({ "id": peer * 10_000 + seq, "seq": seq, "from": user(peer, "p"), "to": user(1, "alice"), "text": "t", "at": seq, "cid": null });
        chat.apply_json("secret", secret(3, 1));
        for seq in 1..=(MAX_KEPT_MESSAGES as i64 + 1) {
            chat.apply_json("secret", secret(2, seq));
        }
        assert_eq!(held(&chat, &ConversationId::pair(1, 2)).len(), MAX_KEPT_MESSAGES);
        assert_eq!(seqs(&held(&chat, &ConversationId::pair(1, 3))), [1], "carol's is still whole");
    });
}

/// My message shows as stored the moment its ack comes, with the ack's
/// id, seq and time, whether or not its live copy ever arrives; the live
/// copy, when it does, is the same message.
#[test]
fn an_acked_message_is_shown_before_its_echo() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot { room: LOBBY.into(), ..ChatSnapshot::default() });
        chat.apply_json("session", json!({ "user": user(1, "alice") }));
        assert!(chat.queue(Conversation::lobby(), "hello".into(), "c1".into(), None));
        assert_eq!(chat.sent("c1", MessageAck { id: 40, seq: 7, at: 99 }), None);
        let lobby = ConversationId::room(LOBBY);
        let shown = held(&chat, &lobby);
        assert_eq!(shown.len(), 1);
        assert_eq!((shown[0].id, shown[0].seq, shown[0].at, shown[0].text.as_str()), (40, 7, 99, "hello"));
        assert!(chat.outbox.get_untracked().is_empty(), "no longer pending");
        assert!(chat.unread.get_untracked().is_empty(), "my own message is never unread");
        let echo = json!({ "id": 40, "seq": 7, "room": "lobby", "from": user(1, "alice"), "text": "hello", "at": 99, "cid": "c1" });
        assert_eq!(chat.apply_json("message", echo), None);
        assert_eq!(held(&chat, &lobby), shown, "the echo is the same message, once");
        // A private one goes to the conversation with its recipient.
        let bob = User { id: 2, name: "bob".into() };
        assert!(chat.queue(Conversation::Direct(bob.clone()), "psst".into(), "c2".into(), None));
        chat.sent("c2", MessageAck { id: 41, seq: 1, at: 100 });
        let private = held(&chat, &ConversationId::pair(1, 2));
        assert_eq!((private[0].text.as_str(), private[0].to.as_ref()), ("psst", Some(&bob)));
        assert_eq!(chat.conversations.get_untracked()[0].with, bob, "and lists it");
    });
}

/// Opening a conversation loads its latest page unless I hold it: the
/// page's own one, or one loaded since. Live messages alone are not it.
#[test]
fn only_a_latest_page_counts_as_holding_a_conversation() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot { room: LOBBY.into(), ..ChatSnapshot::default() });
        let (lobby, design) = (ConversationId::room(LOBBY), ConversationId::room("design"));
        assert!(chat.holds_latest(&lobby), "the page came with it");
        let live =
            json!({ "id": 70, "seq": 12, "room": "design", "from": user(2, "bob"), "text": "t", "at": 0, "cid": null });
        chat.apply_json("message", live);
        assert!(!chat.holds_latest(&design), "one live message is not its history");
        chat.merge_latest(&design, vec![], 0);
        assert!(chat.holds_latest(&design));
        chat.start_over("another".into());
        assert!(!chat.holds_latest(&lobby) && !chat.holds_latest(&design));
    });
}

#[test]
fn rooms_stay_by_name_and_conversations_newest_first() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot::default());
        let room = |name: &str, members: usize| RoomInfo {
            name: name.into(),
            title: name.into(),
            private: false,
            members,
            online: 0,
            joined: true,
            last_seq: 0,
            last_change: 0,
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

/// A change that comes live while a conversation's first page is on its
/// way is applied over that page, which may have been read before it.
#[test]
fn a_change_before_the_first_page_is_not_lost() {
    Owner::new_root(None).with(|| {
        let chat = ChatState::new(ChatSnapshot { room: LOBBY.into(), ..ChatSnapshot::default() });
        let design = ConversationId::room("design");
        let original = Message { conversation: design.clone(), ..room_message(4) };
        let mut edited = original.clone();
        (edited.text, edited.revision.change) = ("edited".into(), 1);
        assert_eq!(chat.changed(edited), None);
        assert_eq!(chat.known_change(&design), None, "nothing known before a page");
        // The page was read before the edit: it has the old text.
        chat.merge_latest(&design, vec![original.clone()], 0);
        assert_eq!(held(&chat, &design)[0].text, "edited");
        assert_eq!(chat.known_change(&design), Some(1));
        // And a page read after it keeps its own.
        let rooms = ConversationId::room("rooms");
        let mut later = Message { conversation: rooms.clone(), ..original };
        later.revision.change = 3;
        chat.changed(Message {
            text: "old".into(),
            revision: crate::protocol::Revision { change: 2, ..later.revision.clone() },
            ..later.clone()
        });
        chat.merge_latest(&rooms, vec![later], 3);
        assert_eq!((held(&chat, &rooms)[0].text.as_str(), chat.known_change(&rooms)), ("t", Some(3)));
    });
}

#[test]
fn the_typing_line_names_one_or_two_and_counts_more() {
    let names = |n: usize| (0..n).map(|i| ["Alice", "Bob", "Cy"][i].to_owned()).collect::<Vec<_>>();
    assert_eq!(typing_line(&names(0)), "");
    assert_eq!(typing_line(&names(1)), "Alice is typing…");
    assert_eq!(typing_line(&names(2)), "Alice and Bob are typing…");
    assert_eq!(typing_line(&names(3)), "Several people are typing…");
}

#[test]
fn messages_that_call_me_are_counted_apart_until_read() {
    Owner::new_root(None).with(messages_that_call_me_are_counted_apart_until_read_inner);
}

fn messages_that_call_me_are_counted_apart_until_read_inner() {
    let chat = ChatState::new(ChatSnapshot::default());
    chat.apply_json("session", json!({ "user": user(1, "alice") }));
    let design = ConversationId::room("design");
    let message = |id: i64, from: i64, extra: serde_json::Value| {
        let mut message = json!({ "id": id, "seq": id, "room": "design", "from": user(from, "x"), "text": "t", "at": 0, "cid": null });
        message.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        message
    };
    chat.apply_json("message", message(1, 2, json!({ "mentions": [1] })));
    chat.apply_json("message", message(2, 2, json!({ "mentions": [3] })));
    chat.apply_json("message", message(3, 2, json!({ "everyone": "here" })));
    chat.apply_json("message", message(4, 1, json!({ "everyone": "room" })));
    let counts = |chat: &ChatState| {
        let get = |counts: RwSignal<HashMap<ConversationId, usize>>| counts.with_untracked(|c| c.get(&design).copied());
        (get(chat.unread), get(chat.mentioned))
    };
    assert_eq!(counts(&chat), (Some(3), Some(2)), "named, and @here; not carol's, never my own");
    // What the server says wins: read elsewhere, up to the first.
    chat.apply_json("read", json!({ "room": "design", "seq": 1, "unread": 2, "mentions": 1 }));
    assert_eq!(counts(&chat), (Some(2), Some(1)));
    chat.apply_json("read", json!({ "room": "design", "seq": 4, "unread": 0 }));
    assert_eq!(counts(&chat), (None, None));
    chat.apply_json("message", message(5, 2, json!({ "mentions": [1] })));
    chat.open(Conversation::Room("design".into()));
    assert_eq!(counts(&chat), (None, None), "read once opened");
}
