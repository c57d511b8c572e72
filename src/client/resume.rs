//! Catching up after a (re)connect, and when a live event shows something
//! was missed: each conversation's messages by `seq`, the changes to the
//! messages I hold by change number, and where I am in each (read state).

use leptos::prelude::*;

use super::session::{ask, ask_until_accepted, history, mark_read, no_payload, payload};
use crate::chat_state::{ChatState, Gap};
use crate::error::ApiError;
use crate::protocol::{
    event, next_rooms_after, ChangesRequest, ConversationId, ConversationList, HistoryPage, HistoryRequest, ReadStates,
    RoomList, UserId, LOBBY, MAX_HISTORY_PAGE,
};

/// After connecting, fetches exactly what each conversation missed, by
/// `seq`: the lobby, the rooms I follow, then every private conversation
/// the server lists with a newer `seq` than I know, including ones started
/// while I was away. A gap too large for one page starts that conversation
/// over from its latest page instead.
pub(super) async fn resume(chat: ChatState) {
    let lobby_id = ConversationId::room(LOBBY);
    let lobby = room_page(LOBBY);
    let mut caught = catch_up(lobby.clone(), chat.known_seq(&lobby_id)).await;
    // The lobby's page also says which history the server holds. A new one
    // (a reset database) makes every `seq` I have meaningless.
    if let Ok(CaughtUp::Missed(page) | CaughtUp::Restart(page)) = &caught {
        if chat.epoch.with_value(|epoch| *epoch != page.epoch) {
            chat.start_over(page.epoch.clone());
            caught = history(lobby).await.map(CaughtUp::Restart);
        }
    }
    absorb(chat, &lobby_id, caught);
    // Holes found while connected whose filling failed: the newest `seq`
    // is past them, so the catching up below would not ask for them.
    for gap in chat.unfilled_gaps.try_update_value(std::mem::take).unwrap_or_default() {
        fill_gap(chat, gap).await;
    }
    // Then every other room I have messages of, if the list says it moved
    // on; rooms I never opened load when I open them.
    let rooms = match ask::<RoomList>(event::ROOMS, no_payload()).await {
        Ok(list) => {
            chat.rooms_after.set(next_rooms_after(&list.rooms, list.more));
            list.rooms
        }
        Err(error) => return chat.notice.set(Some(error.message)),
    };
    chat.rooms.set(rooms.clone());
    for room in rooms {
        let id = ConversationId::room(room.name.as_str());
        if room.name != LOBBY {
            let Some(seen) = chat.known_seq(&id) else { continue };
            if seen < room.last_seq {
                absorb(chat, &id, catch_up(room_page(&room.name), Some(seen)).await);
            }
        }
        catch_up_changes(chat, &id, room.last_change).await;
    }
    let Some(me) = chat.me.get_untracked().map(|me| me.id) else { return };
    let list = match ask::<ConversationList>(event::CONVERSATIONS, no_payload()).await {
        Ok(list) => list,
        Err(error) => return chat.notice.set(Some(error.message)),
    };
    for summary in &list.conversations {
        let id = ConversationId::pair(me, summary.with.id);
        let seen = chat.known_seq(&id);
        if seen.is_some_and(|seen| seen >= summary.last_seq) {
            continue;
        }
        // Not noted as caught up unless it did: the next resume tries again.
        if absorb(chat, &id, catch_up(private_page(summary.with.id), seen).await) {
            chat.note_conversation(&summary.with, summary.last_seq, summary.last_at);
        }
    }
    // Then the changes to messages I held, where the server's list says
    // some came.
    for summary in &list.conversations {
        let id = ConversationId::pair(me, summary.with.id);
        catch_up_changes(chat, &id, summary.last_change).await;
    }
    // And where I am everywhere: the server's word replaces mine, and
    // what I read while away from it is said again.
    match ask::<ReadStates>(event::READS, no_payload()).await {
        Ok(states) => {
            chat.read_seqs.set_value(Default::default());
            chat.choose_levels(&states.notify);
            chat.apply_reads(states.reads);
            mark_read(chat);
        }
        Err(error) => chat.notice.set(Some(error.message)),
    }
}

/// Pages of changed messages a catch-up reads at most before it reloads
/// the conversation's latest page instead.
const MAX_CHANGE_PAGES: usize = 8;

/// Brings the messages I hold of `id` up to date with every edit,
/// deletion and reaction since the newest change I know of, if `last`
/// (the server's newest) is past it. A conversation of which I have
/// read no page yet needs none: its page will be current. Returns
/// whether it caught up.
async fn catch_up_changes(chat: ChatState, id: &ConversationId, last: i64) -> bool {
    let (Some(mut after), Some(request)) = (chat.known_change(id), page_of(chat, id)) else { return true };
    if after >= last {
        return true;
    }
    for _ in 0..MAX_CHANGE_PAGES {
        let ask_for = ChangesRequest { room: request.room.clone(), with: request.with, after };
        let asked = match payload(&ask_for) {
            Ok(data) => ask::<HistoryPage>(event::CHANGES, data).await,
            Err(error) => Err(error),
        };
        let page = match asked {
            Ok(page) => page,
            Err(error) => {
                chat.notice.set(Some(error.message));
                return false;
            }
        };
        let (more, read_first) = (page.more, page.changes);
        let changed = page.into_messages();
        after = changed.iter().map(|m| m.revision.change).max().unwrap_or(after);
        // A whole answer covers every change up to the number read before
        // it; a cut one, those up to its last.
        let upto = if more { after } else { after.max(read_first) };
        chat.receive_changes(id, changed, upto);
        if !more {
            return true;
        }
    }
    absorb(chat, id, history(request).await.map(CaughtUp::Restart))
}

/// Fetches what a live event showed I missed while connected: a
/// conversation's messages, as [`resume`] does after a reconnect, or the
/// list of who is online. A conversation's gap that cannot be filled now is
/// kept for the next resume.
pub(super) async fn fill_gap(chat: ChatState, gap: Gap) {
    let filled = match &gap {
        Gap::Conversation { id, seen } => match page_of(chat, id) {
            Some(request) => absorb(chat, id, catch_up(request, Some(*seen)).await),
            None => true,
        },
        Gap::Changes { id, seen } => catch_up_changes(chat, id, seen + 1).await,
        // The list comes as a `presence` event, with the server's next
        // flush. If asking fails, the connection's next list will do: every
        // connection starts with one.
        Gap::Presence => {
            let _ = ask_until_accepted(event::PRESENCE, no_payload()).await;
            true
        }
    };
    if !filled {
        chat.keep_unfilled(gap);
    }
}

fn room_page(room: &str) -> HistoryRequest {
    HistoryRequest { room: Some(room.to_owned()), ..Default::default() }
}

fn private_page(peer: UserId) -> HistoryRequest {
    HistoryRequest { with: Some(peer), ..Default::default() }
}

/// The request for the latest page of `id` (a private one is mine with
/// its other party); `None` for a private conversation that is not mine.
pub(super) fn page_of(chat: ChatState, id: &ConversationId) -> Option<HistoryRequest> {
    match id {
        ConversationId::Room(room) => Some(room_page(room)),
        ConversationId::Pair(..) => {
            let me = chat.me_id()?;
            id.peer_of(me).map(private_page)
        }
    }
}

/// Applies a catch-up of `id`: what was missed, or the latest page instead
/// of what I had. Returns whether it caught up.
fn absorb(chat: ChatState, id: &ConversationId, caught: Result<CaughtUp, ApiError>) -> bool {
    match caught {
        Ok(CaughtUp::Missed(page)) => chat.receive_missed(page.into_messages()),
        Ok(CaughtUp::Restart(page)) => {
            let changes = page.changes;
            chat.restart(id, page.into_messages(), changes);
        }
        Err(error) => {
            chat.notice.set(Some(error.message));
            return false;
        }
    }
    true
}

enum CaughtUp {
    /// Everything after what we had.
    Missed(HistoryPage),
    /// Too much was missed: the latest page, to replace what we had.
    Restart(HistoryPage),
}

async fn catch_up(conversation: HistoryRequest, seen: Option<i64>) -> Result<CaughtUp, ApiError> {
    // Nothing held: the latest page is all there is to have.
    let Some(seen) = seen else { return history(conversation).await.map(CaughtUp::Restart) };
    let missed =
        history(HistoryRequest { after: Some(seen), limit: Some(MAX_HISTORY_PAGE), ..conversation.clone() }).await?;
    if !missed.more {
        return Ok(CaughtUp::Missed(missed));
    }
    history(conversation).await.map(CaughtUp::Restart)
}
