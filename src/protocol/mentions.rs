//! Mentions: a message calling someone's attention. The sender names
//! people by id (`mentions`), not only as `@name` in the text, so a rename
//! does not break them; or calls a room's online members (`@here`) or all
//! its members (`@room`) through `everyone`. The server keeps only the
//! people who can read the conversation, stores the mention with the
//! message, and counts each reader's unread mentions beside their unread
//! messages.

use serde::{Deserialize, Serialize};

use super::name_order::fold;
use super::{User, UserId};
use crate::error::ChatError;

/// People one message may name, at most.
pub const MAX_MENTIONS: usize = 20;

/// The largest room `@here` and `@room` may call: beyond it, calling
/// everyone is a broadcast, and the lobby (everyone on the server) never
/// may.
pub const MAX_CALLED: usize = 200;

/// `mentions {before?}`: a page of the messages that called me, newest
/// first, older than the message `before` (ack: a `SearchPage`).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct MentionsRequest {
    #[serde(default)]
    pub before: Option<i64>,
}

/// Whom `everyone` calls in a room.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Everyone {
    /// `@here`: the members online when it is sent.
    Here,
    /// `@room`: every member.
    Room,
}

impl Everyone {
    /// How it is written in a message's text.
    pub fn written(self) -> &'static str {
        match self {
            Everyone::Here => "@here",
            Everyone::Room => "@room",
        }
    }
}

/// Whom one message calls, as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// People named, each once, in the order named.
    pub users: Vec<UserId>,
    pub everyone: Option<Everyone>,
}

impl Mentions {
    /// A request's mentions, checked: at most [`MAX_MENTIONS`] people, each
    /// once, the sender left out (nobody calls themselves).
    pub fn requested(sender: UserId, users: &[UserId], everyone: Option<Everyone>) -> Result<Mentions, ChatError> {
        if users.len() > MAX_MENTIONS {
            return Err(ChatError::InvalidPayload(format!("a message names at most {MAX_MENTIONS} people")));
        }
        let mut named: Vec<UserId> = Vec::with_capacity(users.len());
        for &user in users {
            if user != sender && !named.contains(&user) {
                named.push(user);
            }
        }
        Ok(Mentions { users: named, everyone })
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.everyone.is_none()
    }

    /// Whether it calls `me`: named, or among everyone called. `@here`
    /// counts as calling me too, since whether I was online when it was
    /// sent is not part of the message; the server's unread mention
    /// counts know exactly.
    pub fn call(&self, me: UserId) -> bool {
        self.everyone.is_some() || self.users.contains(&me)
    }

    /// The stored column of the people named: their ids, comma-separated
    /// (`None` for none).
    pub fn users_column(&self) -> Option<String> {
        if self.users.is_empty() {
            return None;
        }
        Some(self.users.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(","))
    }

    /// The stored column of `everyone`.
    pub fn everyone_column(&self) -> Option<&'static str> {
        self.everyone.map(|everyone| match everyone {
            Everyone::Here => "here",
            Everyone::Room => "room",
        })
    }

    /// Read back from the two stored columns; what cannot be read is left
    /// out.
    pub fn from_columns(users: Option<&str>, everyone: Option<&str>) -> Mentions {
        Mentions {
            users: users.unwrap_or_default().split(',').filter_map(|id| id.parse().ok()).collect(),
            everyone: match everyone {
                Some("here") => Some(Everyone::Here),
                Some("room") => Some(Everyone::Room),
                _ => None,
            },
        }
    }
}

/// Whom `text` names among `people`, as a draft is read when nothing was
/// picked: for each `@`, the one whose name follows it
/// ([`named_after`]), each once, never `me`, at most [`MAX_MENTIONS`].
pub fn named_in(text: &str, people: &[User], me: UserId) -> Vec<UserId> {
    let mut named = Vec::new();
    for (at, _) in text.match_indices('@') {
        if let Some(user) = named_after(&text[at + 1..], people) {
            if user != me && named.len() < MAX_MENTIONS && !named.contains(&user) {
                named.push(user);
            }
        }
    }
    named
}

/// Whom `rest`, what follows an `@`, names among `people`: the one with
/// the longest name it starts with; nobody if two people share that name
/// (or two names that read alike, `Emile` and `Émile`).
pub fn named_after(rest: &str, people: &[User]) -> Option<UserId> {
    let length = |user: &User| user.name.chars().count();
    let longest = people.iter().filter(|user| names(rest, &user.name)).map(length).max()?;
    let mut found = people.iter().filter(|user| length(user) == longest && names(rest, &user.name));
    let first = found.next()?.id;
    found.all(|user| user.id == first).then_some(first)
}

/// Whether `rest`, what follows an `@`, names `name`: it starts with it,
/// whatever the case and accents (`@bob` and `@BOB` name Bob, as the
/// menu finds him), and a name ending in a Latin letter or digit is not
/// followed by another (`@bob` does not name Bo). Chinese names need no
/// space after them.
pub fn names(rest: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let mut chars = rest.char_indices();
    for wanted in name.chars() {
        match chars.next() {
            Some((_, c)) if fold(c) == fold(wanted) => {}
            _ => return false,
        }
    }
    let ends_in_word = name.chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
    let next_in_word = chars.next().is_some_and(|(_, c)| c.is_ascii_alphanumeric() || c == '_');
    !(ends_in_word && next_in_word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_each_once_and_never_the_sender() {
        let mentions = Mentions::requested(1, &[3, 1, 3, 2], None).ok();
        assert_eq!(mentions, Some(Mentions { users: vec![3, 2], everyone: None }));
        let too_many: Vec<UserId> = (2..=(MAX_MENTIONS as i64 + 2)).collect();
        assert!(Mentions::requested(1, &too_many, None).is_err());
    }

    #[test]
    fn a_text_names_people_by_the_longest_name_after_each_at() {
        let people = |names: &[(i64, &str)]| -> Vec<User> {
            names.iter().map(|(id, name)| User { id: *id, name: (*name).to_owned() }).collect()
        };
        let online = people(&[(1, "ann"), (2, "Bo"), (3, "Bob"), (4, "张三"), (5, "twin"), (6, "twin")]);
        assert_eq!(named_in("@Bob and @Bo, @张三你好 @ann @Bobby @twin", &online, 1), [3, 2, 4]);
        assert_eq!(named_in("mail a@Bob.org", &online, 1), [3], "as the browser reads it: whatever is after an @");
        assert_eq!(named_in("@bob @ÉMILE? @bo", &people(&[(3, "Bob"), (7, "Émile"), (2, "Bo")]), 1), [3, 7, 2]);
    }

    #[test]
    fn columns_round_trip() {
        let mentions = Mentions { users: vec![7, 3], everyone: Some(Everyone::Here) };
        let read = Mentions::from_columns(mentions.users_column().as_deref(), mentions.everyone_column());
        assert_eq!(read, mentions);
        assert_eq!(Mentions::from_columns(None, None), Mentions::default());
        assert!(read.call(9) && !Mentions { users: vec![7], everyone: None }.call(9));
    }
}
