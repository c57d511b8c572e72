//! One message as the conversation and a thread show it: its place among
//! its neighbours (a new day, a group, the first news, "Seen"), its quote,
//! file and text or tombstone, "edited", its thread, and its reactions and
//! menu (`message_actions`).

use leptos::prelude::*;

use super::media::MediaView;
use super::message_actions::message_tools;
use crate::chat_state::{iso_day, iso_instant, ChatState, LocalClock};
use crate::i18n::{fill, words};
use crate::protocol::{Message, UserId};
use crate::rich_text::to_html;

/// How long after one message the next from the same person still joins
/// its group, under the first one's name and time.
const GROUP_WITHIN_MS: i64 = 5 * 60_000;

/// Where a message sits among its neighbours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Place {
    /// A new day starts with it: a separator goes above.
    new_day: bool,
    /// It continues the group of the message above: same person, same
    /// day, a few minutes apart.
    continued: bool,
    /// The first news since I last read: the "New messages" line goes
    /// above.
    first_unread: bool,
    /// My last message the other one of a private conversation has read.
    seen: bool,
}

/// What the reader brings to the layout: their clock, who they are, where
/// they had read up to when they opened the conversation, and how far the
/// other one has read (in a private conversation).
#[derive(Clone, Copy, Debug, Default)]
pub struct Reader {
    pub clock: LocalClock,
    pub me: Option<UserId>,
    pub unread_after: Option<i64>,
    pub peer_seen: Option<i64>,
}

/// What a row is drawn from and may change: a message's id, its change
/// number and the quote it shows (which follows its original), and its
/// place. A row is drawn again when its key changes.
pub fn row_key(message: &Message, place: Place) -> (i64, i64, Option<(bool, String)>, Place) {
    let quote = message.reply_to.as_ref().map(|q| (q.deleted, q.text.clone()));
    (message.id, message.revision.change, quote, place)
}

/// The messages with their places, for `reader`.
pub fn laid_out(rows: &[Message], reader: Reader) -> Vec<(Message, Place)> {
    let Reader { clock, me, unread_after, peer_seen } = reader;
    let mine = |m: &Message| Some(m.from.id) == me;
    let first_unread = unread_after.and_then(|after| rows.iter().find(|m| m.seq > after && !mine(m)).map(|m| m.id));
    let seen = peer_seen.and_then(|seen| rows.iter().rev().find(|m| mine(m) && m.seq <= seen).map(|m| m.id));
    let mut above: Option<&Message> = None;
    let mut laid = Vec::with_capacity(rows.len());
    for message in rows {
        let new_day = above.is_none_or(|above| clock.day(above.at) != clock.day(message.at));
        let first_unread = first_unread == Some(message.id);
        let continued = !new_day
            && !first_unread
            && above.is_some_and(|above| {
                above.from.id == message.from.id && (0..GROUP_WITHIN_MS).contains(&(message.at - above.at))
            });
        let seen = seen == Some(message.id);
        laid.push((message.clone(), Place { new_day, continued, first_unread, seen }));
        above = Some(message);
    }
    laid
}

/// One message, of a room or a private conversation alike, with the day
/// separator above it when a day starts with it: its file and text, or a
/// tombstone once deleted; "edited"; its reactions; and, for someone
/// signed in, its menu.
#[component]
pub fn MessageRow(message: Message, place: Place) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let from = message.from.id;
    let mine = move || chat.me.with(|me| me.as_ref().is_some_and(|me| me.id == from));
    let at = message.at;
    let clock = move || chat.clock.get();
    let separator = place.new_day.then(|| {
        view! {
            <li class="day" data-testid="day">
                <time datetime=move || iso_day(clock().day(at))>{move || clock().day_label(clock().day(at))}</time>
            </li>
        }
    });
    let unread_line = place
        .first_unread
        .then(|| view! { <li class="unread-line" data-testid="unread-line"><span>{words().new_messages_line().inner()}</span></li> });
    let seen = place.seen.then(|| view! { <span class="seen" data-testid="seen">{words().seen().inner()}</span> });
    let Message { id, text, media, revision, reply_to, in_thread, mentions, .. } = message;
    // Called by name, `@here` or `@room`: highlighted for me, never on my
    // own, and no more once deleted.
    let gone = revision.deleted;
    let calls_me =
        move || !gone && chat.me.with(|me| me.as_ref().is_some_and(|me| me.id != from && mentions.call(me.id)));
    // A root says how many replies it has; a reply shown here, where from.
    let thread = match (revision.thread, in_thread) {
        (Some(summary), _) => {
            let replies = match summary.replies {
                1 => words().replies_one().inner().to_owned(),
                n => fill(words().replies_many().inner(), &[("count", &n.to_string())]),
            };
            Some((id, replies, Some(summary.last_at)))
        }
        (None, Some(reply)) => Some((reply.root, words().in_a_thread().inner().to_owned(), None)),
        (None, None) => None,
    };
    let thread = thread.map(|(root, label, last)| {
        let last = move || {
            last.map(|at| fill(words().last_reply().inner(), &[("time", &chat.clock_now().when(at))]))
                .unwrap_or_default()
        };
        view! {
            <button type="button" class="thread-summary" data-thread=root data-testid="thread-summary">
                {label}
                <span class="last-reply">{last}</span>
            </button>
        }
    });
    let quote = reply_to.map(|quote| {
        let said = match (quote.deleted, quote.text.is_empty(), quote.media) {
            (true, _, _) => words().original_deleted().inner().to_owned(),
            (false, true, true) => words().a_file().inner().to_owned(),
            (false, _, _) => quote.text,
        };
        view! {
            <a class="quote" href=format!("#m-{}", quote.id) data-jump=quote.id data-seq=quote.seq data-testid="quote">
                <span class="quote-from">{chat.display_name(&quote.from)}</span>
                <span class="quote-text">{said}</span>
            </a>
        }
    });
    let deleted = revision.deleted;
    let edited = revision.edited_at.map(|edited| {
        view! { <span class="edited" data-testid="edited" title=move || clock().full(edited)>{words().edited().inner()}</span> }
    });
    let tombstone = deleted
        .then(|| view! { <p class="text tombstone" data-testid="tombstone">{words().message_deleted().inner()}</p> });
    // Reactions and the menu follow who I am (signing in shows the menu).
    let tools = (!deleted).then(|| {
        let (reactions, text) = (revision.reactions, text.clone());
        let threadable = in_thread.is_none();
        let markup = move || message_tools(chat, id, from, &reactions, &text, threadable);
        view! { <div class="message-tools" inner_html=markup></div> }
    });
    view! {
        {separator}
        {unread_line}
        <li
            id=format!("m-{id}")
            class="message"
            class:mine=mine
            class:continued=place.continued
            class:deleted=deleted
            class:calls-me=calls_me
            data-testid="message"
        >
            <div class="meta">
                <span class="from">{move || chat.display_name(&message.from)}</span>
                <time datetime=iso_instant(at) title=move || clock().full(at)>{move || clock().time(at)}</time>
                {edited}
            </div>
            {quote}
            {tombstone}
            {media.map(|media| view! { <MediaView media/> })}
            {(!text.is_empty()).then(|| view! { <div class="text" inner_html=to_html(&text)></div> })}
            {thread}
            {tools}
            {seen}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ConversationId, User, LOBBY};

    fn message(id: i64, from: i64, at: i64) -> Message {
        Message {
            id,
            seq: id,
            conversation: ConversationId::Room(LOBBY.into()),
            from: User { id: from, name: format!("user {from}") },
            to: None,
            text: String::new(),
            at,
            cid: None,
            media: None,
            reply_to: None,
            in_thread: None,
            revision: Default::default(),
            mentions: Default::default(),
        }
    }

    #[test]
    fn groups_one_persons_messages_within_minutes_of_the_same_day() {
        let minute = 60_000;
        let evening = 86_400_000 - 3 * minute;
        let rows = [
            message(1, 1, evening),
            message(2, 1, evening + minute),
            message(3, 2, evening + minute),
            message(4, 2, evening + 2 * minute),
            message(5, 2, evening + 4 * minute),
            message(6, 2, evening + 10 * minute),
        ];
        let places = |clock| {
            let reader = Reader { clock, ..Reader::default() };
            laid_out(&rows, reader).into_iter().map(|(_, p)| (p.new_day, p.continued)).collect::<Vec<_>>()
        };
        let utc = LocalClock { offset_minutes: 0, now_ms: 0 };
        assert_eq!(
            places(utc),
            [(true, false), (false, true), (false, false), (false, true), (true, false), (false, false)],
            "midnight in UTC falls before the fifth"
        );
        // User 1 had read up to 3 when they opened it, and the other one
        // has read up to 5: the line goes above 4, "Seen" under 1's last, 2.
        let reader = Reader { clock: utc, me: Some(1), unread_after: Some(3), peer_seen: Some(5) };
        let marks: Vec<_> = laid_out(&rows, reader).into_iter().map(|(m, p)| (m.id, p.first_unread, p.seen)).collect();
        assert_eq!(marks.iter().filter(|m| m.1).map(|m| m.0).collect::<Vec<_>>(), [4]);
        assert_eq!(marks.iter().filter(|m| m.2).map(|m| m.0).collect::<Vec<_>>(), [2]);
        let reader = Reader { me: Some(2), ..reader };
        let marks: Vec<_> = laid_out(&rows, reader).into_iter().map(|(m, p)| (m.id, p.first_unread, p.seen)).collect();
        assert!(!marks.iter().any(|m| m.1), "all after 3 is user 2's own");
        assert_eq!(marks.iter().filter(|m| m.2).map(|m| m.0).collect::<Vec<_>>(), [5]);
        // An hour east, every one of them is on the next day.
        let east = LocalClock { offset_minutes: 60, ..utc };
        assert_eq!(
            places(east),
            [(true, false), (false, true), (false, false), (false, true), (false, true), (false, false)]
        );
    }
}
