//! What a chat page starts from ([`ChatSnapshot`]): who I am, the rooms I
//! can see, who is online, my private conversations, and the latest page of
//! the conversation the address names. Loaded before the page renders
//! (`http::pages`), and answered as is by `/api/chat`.

use std::net::IpAddr;

use crate::error::{ApiError, ChatError};
use crate::i18n::Locale;
use crate::protocol::{
    ChatSnapshot, ConversationId, HistoryPage, RoomsRequest, User, UserId, HISTORY_PAGE, LOBBY, MAX_CONVERSATIONS,
};
use crate::server::chat::access::check_can_read;
use crate::server::chat::history;
use crate::server::chat::notify::chosen;
use crate::server::chat::reading::read_states;
use crate::server::chat::rooms::list_for;
use crate::server::clock::now_ms;
use crate::server::state::AppState;

/// The snapshot for `me` at the address naming `room` or `with`. What the
/// address asks for, if this visitor may see it; otherwise the lobby, with a
/// word on why (a link to a room that is gone, a private conversation after
/// signing out). `reader`: where the request came from, whose read budget
/// the page's history is charged to. `rooms`: the room search and page the
/// address asks for (`?query=&after=`); a later page comes after the first,
/// so the lobby and my rooms are always listed.
pub async fn load(
    state: &AppState,
    reader: Option<IpAddr>,
    me: Option<User>,
    room: Option<String>,
    with: Option<UserId>,
    rooms: RoomsRequest,
    locale: Locale,
) -> Result<ChatSnapshot, ApiError> {
    // The notice is read on the page: in the reader's language.
    let said = |refused: ChatError| {
        let refused = ApiError::from(refused);
        crate::i18n::error_message_in(locale, &refused.code, &refused.message)
    };
    let me_id = me.as_ref().map(|u| u.id);
    let mut notice = None;
    let mut room = room.unwrap_or_else(|| LOBBY.to_owned());
    let mut direct = None;
    match (with, me_id) {
        (Some(peer), Some(_)) => match state.store.user(peer).await? {
            Some(peer) => direct = Some(peer),
            None => notice = Some(said(ChatError::NoSuchUser)),
        },
        (Some(_), None) => {
            notice = Some(locale.get_keys_const().notice_sign_in_for_private().inner().to_owned());
        }
        (None, _) => {
            if let Err(refused) = check_can_read(state, me_id, &room).await {
                notice = Some(said(refused));
                room = LOBBY.to_owned();
            }
        }
    }
    let conversation = match (&direct, me_id) {
        (Some(peer), Some(me_id)) => {
            room = LOBBY.to_owned();
            ConversationId::pair(me_id, peer.id)
        }
        _ => ConversationId::room(room.as_str()),
    };
    let page = history::page(state, reader, &conversation, None, HISTORY_PAGE).await?;
    let page = HistoryPage::of(page.messages, false, String::new(), page.changes);
    let conversations = match me_id {
        Some(me_id) => state.store.conversations(me_id, MAX_CONVERSATIONS).await?,
        None => Vec::new(),
    };
    let (reads, notify) = match me_id {
        Some(me_id) => (read_states(state, me_id).await?, chosen(state, me_id).await?),
        None => (Vec::new(), Vec::new()),
    };
    // A search too long to match any room name is no search.
    let rooms = if rooms.query().is_ok() { rooms } else { RoomsRequest::default() };
    let mut listed = list_for(state, me_id, &RoomsRequest { after: None, ..rooms.clone() }).await?;
    if rooms.after.is_some() {
        let next = list_for(state, me_id, &rooms).await?;
        listed.rooms.extend(next.rooms);
        listed.more = next.more;
    }
    Ok(ChatSnapshot {
        rooms: listed.rooms,
        more_rooms: listed.more,
        room_query: rooms.query.unwrap_or_default(),
        me,
        room,
        direct,
        notice,
        refused: None,
        messages: page.messages,
        secrets: page.secrets,
        changes: page.changes,
        reads,
        notify,
        online: state.presence.users(),
        conversations,
        epoch: state.history_epoch.to_string(),
        allow_guests: state.config.allow_guests,
        max_upload_bytes: state.config.max_upload_bytes,
        push_key: state.push.public_key().map(str::to_owned),
        now: now_ms(),
    })
}
