//! Mentions in the browser: whom the composer offers after `@` (the
//! conversation's people, online ones first, and in a room `@here` and
//! `@room`), the people picked from that menu, and whom a message calls
//! when it is queued. A mention leaves as ids, not only as `@name` in the
//! text, so it survives a rename and tells apart two people of one name.

use leptos::prelude::*;

use super::{ChatState, Conversation};
use crate::protocol::{named_after, names, starts_with_folded, Everyone, Mentions, User, LOBBY, MAX_MENTIONS};

/// The most entries the composer's menu offers at once.
pub const MAX_OFFERED: usize = 8;

/// One entry of the composer's `@` menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Someone of the conversation, and whether they are online.
    Person(User, bool),
    /// `@here` or `@room`.
    Everyone(Everyone),
}

impl ChatState {
    /// What the menu offers for `@query` in the conversation on screen:
    /// people whose name starts with `query` (ignoring case and accents),
    /// online ones first, never me; then, in a room other than the lobby,
    /// `@here` and `@room`. In a room, its members once
    /// [`ChatState::room_people`] holds them (everyone online until then,
    /// and in the lobby), then who spoke there lately; in a private
    /// conversation, the other one only.
    pub fn offers(&self, query: &str) -> Vec<Offer> {
        let me = self.me_id();
        let mut offers: Vec<Offer> = Vec::new();
        let mut offer = |user: &User, online: bool| {
            let known = offers.iter().any(|o| matches!(o, Offer::Person(u, _) if u.id == user.id));
            if offers.len() < MAX_OFFERED && Some(user.id) != me && !known && starts_with_folded(&user.name, query) {
                offers.push(Offer::Person(user.clone(), online));
            }
        };
        let active = self.active.get_untracked();
        match &active {
            Conversation::Direct(peer) => {
                let online = self.online.with_untracked(|online| online.iter().any(|u| u.id == peer.id));
                offer(peer, online);
            }
            Conversation::Room(room) => {
                // A room's members, if the menu has them for this room;
                // else whoever is online (the server keeps only members).
                let members = self.room_people.with_value(|people| match people {
                    Some((listed, members)) if listed == room && room != LOBBY => Some(members.clone()),
                    _ => None,
                });
                match members {
                    Some(members) => members
                        .iter()
                        .for_each(|member| offer(&User { id: member.id, name: member.name.clone() }, member.online)),
                    None => self.online.with_untracked(|online| online.iter().for_each(|user| offer(user, true))),
                }
                // Then who spoke here lately, online or not.
                if let Some(id) = active.id(me) {
                    self.messages.with_untracked(|all| {
                        all.get(&id).into_iter().flatten().rev().for_each(|message| offer(&message.from, false))
                    });
                }
            }
        }
        if matches!(&active, Conversation::Room(room) if room != LOBBY) {
            for everyone in [Everyone::Here, Everyone::Room] {
                if starts_with_folded(&everyone.written()[1..], query) {
                    offers.push(Offer::Everyone(everyone));
                }
            }
        }
        offers
    }

    /// An entry was picked from the menu: an `@name` of that person's in
    /// the draft means them, whoever else has that name, and `@here` or
    /// `@room` call everyone (typed by hand, they are plain text: a room
    /// too large for them would refuse the message).
    pub fn picked(&self, offer: &Offer) {
        self.mention_picks.update_value(|picks| {
            if picks.len() < MAX_MENTIONS && !picks.contains(offer) {
                picks.push(offer.clone());
            }
        });
    }

    /// The draft was sent, or left for another conversation: its picks go.
    pub fn forget_picks(&self) {
        if self.mention_picks.with_value(|picks| !picks.is_empty()) {
            self.mention_picks.set_value(Vec::new());
        }
    }

    /// Whom `text`, written to `to`, calls: for each `@` in it, the person
    /// whose name follows (the longest such name: among the people picked
    /// from the menu first, then the other one of a private conversation,
    /// or those online, where a name two of them share names nobody), and
    /// in a room other than the lobby, `@here` or `@room` if picked.
    pub fn mentions_in(&self, to: &Conversation, text: &str) -> Mentions {
        let picks = self.mention_picks.get_value();
        let picked: Vec<User> = picks
            .iter()
            .filter_map(|offer| match offer {
                Offer::Person(user, _) => Some(user.clone()),
                Offer::Everyone(_) => None,
            })
            .collect();
        let me = self.me_id();
        let mut mentions = Mentions::default();
        let in_room = matches!(to, Conversation::Room(room) if room != LOBBY);
        for (at, _) in text.match_indices('@') {
            let rest = &text[at + 1..];
            for offer in &picks {
                if let Offer::Everyone(everyone) = offer {
                    if in_room && names(rest, &everyone.written()[1..]) {
                        mentions.everyone = mentions.everyone.or(Some(*everyone));
                    }
                }
            }
            let found = named_after(rest, &picked).or_else(|| match to {
                Conversation::Direct(peer) => named_after(rest, std::slice::from_ref(peer)),
                Conversation::Room(_) => self.online.with_untracked(|online| named_after(rest, online)),
            });
            if let Some(user) = found.filter(|user| Some(*user) != me) {
                if mentions.users.len() < MAX_MENTIONS && !mentions.users.contains(&user) {
                    mentions.users.push(user);
                }
            }
        }
        mentions
    }
}

/// The `@name` being typed in `draft` with the caret at byte `caret`:
/// where its `@` is, and what follows it up to the caret. An `@` counts
/// anywhere but after a Latin letter or digit (not inside `a@b.c`; right
/// after Chinese, which has no spaces, it does), and
/// only while what follows is a name's worth of characters with no space.
pub fn typed_mention(draft: &str, caret: usize) -> Option<(usize, String)> {
    let before = draft.get(..caret)?;
    let at = before.rfind('@')?;
    let query = &before[at + 1..];
    let opens = before[..at].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
    let fits = query.chars().count() <= crate::protocol::MAX_NAME_CHARS && !query.chars().any(char::is_whitespace);
    (opens && fits).then(|| (at, query.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_state::ChatSnapshot;

    fn user(id: i64, name: &str) -> User {
        User { id, name: name.into() }
    }

    #[test]
    fn a_draft_calls_the_people_it_names() {
        Owner::new_root(None).with(|| {
            let chat = ChatState::new(ChatSnapshot::default());
            chat.me.set(Some(user(1, "alice")));
            chat.online.set(vec![user(1, "alice"), user(2, "Bo"), user(3, "bob"), user(4, "张三")]);
            let room = Conversation::Room("design".into());
            let called = chat.mentions_in(&room, "@bob and @Bo, @张三你好, @alice, @bobby @here");
            assert_eq!(called, Mentions { users: vec![3, 2, 4], everyone: None }, "@here typed, not picked");
            assert_eq!(chat.mentions_in(&room, "@BOB hi").users, [3], "whatever the case");
            chat.picked(&Offer::Everyone(Everyone::Here));
            assert_eq!(chat.mentions_in(&room, "@here now").everyone, Some(Everyone::Here));
            // Two people called bob: the one picked from the menu.
            chat.picked(&Offer::Person(user(9, "bob"), false));
            assert_eq!(chat.mentions_in(&room, "hi @bob").users, [9]);
            chat.forget_picks();
            assert_eq!(chat.mentions_in(&room, "hi @bob @here"), Mentions { users: vec![3], everyone: None });
            // Two online who share a name, neither picked: nobody.
            chat.online.update(|online| online.push(user(7, "Bo")));
            assert_eq!(chat.mentions_in(&room, "hi @Bo").users, Vec::<i64>::new());
            // Never everyone in the lobby or a private conversation, and
            // privately only the other one.
            let lobby = Conversation::Room(LOBBY.into());
            chat.picked(&Offer::Everyone(Everyone::Room));
            assert_eq!(chat.mentions_in(&lobby, "@room @bob"), Mentions { users: vec![3], everyone: None });
            let private = Conversation::Direct(user(2, "Bo"));
            assert_eq!(chat.mentions_in(&private, "@room @bob @Bo"), Mentions { users: vec![2], everyone: None });
        });
    }

    #[test]
    fn an_at_sign_opens_the_menu_where_a_name_can_start() {
        let typed = |draft: &str| typed_mention(draft, draft.len());
        assert_eq!(typed("@"), Some((0, String::new())));
        assert_eq!(typed("hi @bo"), Some((3, "bo".into())));
        assert_eq!(typed("你好@张"), Some((6, "张".into())));
        assert_eq!(typed("(@é"), Some((1, "é".into())));
        assert_eq!(typed("mail a@b"), None, "inside an address");
        assert_eq!(typed("@bob hi"), None, "a space ends it");
        assert_eq!(typed("no at sign"), None);
        assert_eq!(typed_mention("@bob hi", 4), Some((0, "bob".into())), "the caret decides");
        assert_eq!(typed_mention("@é", 2), None, "never inside a character");
    }

    #[test]
    fn the_menu_offers_online_people_first_then_everyone() {
        Owner::new_root(None).with(|| {
            let chat = ChatState::new(ChatSnapshot::default());
            chat.me.set(Some(user(1, "bea")));
            chat.online.set(vec![user(1, "bea"), user(2, "Bob"), user(3, "Émile")]);
            chat.active.set(Conversation::Room("design".into()));
            let names = |offers: Vec<Offer>| -> Vec<String> {
                offers
                    .into_iter()
                    .map(|offer| match offer {
                        Offer::Person(user, online) => format!("{}{}", user.name, if online { "" } else { " (away)" }),
                        Offer::Everyone(everyone) => everyone.written().to_owned(),
                    })
                    .collect()
            };
            assert_eq!(names(chat.offers("")), ["Bob", "Émile", "@here", "@room"]);
            assert_eq!(names(chat.offers("e")), ["Émile"]);
            assert_eq!(names(chat.offers("B")), ["Bob"], "never me");
            assert_eq!(names(chat.offers("h")), ["@here"]);
            // Once the room's members are known, they are offered, the
            // online ones first, as listed.
            let member =
                |id, name: &str, online| crate::protocol::RoomMember { id, name: name.into(), online, last_seen: None };
            let listed = vec![member(2, "Bob", true), member(1, "bea", true), member(5, "Ben", false)];
            chat.room_people.set_value(Some(("design".into(), listed)));
            assert_eq!(names(chat.offers("b")), ["Bob", "Ben (away)"]);
            chat.active.set(Conversation::Room(LOBBY.into()));
            assert_eq!(names(chat.offers("")), ["Bob", "Émile"]);
        });
    }
}
