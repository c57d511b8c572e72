//! One file per piece of the UI. Server functions sit beside the component
//! that calls them.

pub mod account;
pub mod attachments;
pub mod chat_page;
pub mod composer;
pub mod connection_status;
pub mod conversation;
pub mod join_form;
pub mod media;
pub mod people;
pub mod rooms;

use crate::chat_state::{ChatState, Conversation};

/// Opens a conversation from a click: in the browser this also updates the
/// address bar and loads its history; on the server there are no clicks.
pub fn open(chat: ChatState, conversation: Conversation) {
    #[cfg(feature = "hydrate")]
    crate::client::session::open(chat, conversation);
    #[cfg(not(feature = "hydrate"))]
    chat.open(conversation);
}
