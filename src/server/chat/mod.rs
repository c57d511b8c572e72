//! The rules of the chat, whichever way a request arrives (a socket event,
//! a server function, a form without JavaScript, a page load):
//!
//! - [`post`]: posting a message, to a room or to one person;
//! - [`changes`]: editing, deleting and reacting to messages;
//! - [`history`]: reading a conversation back, a page at a time;
//! - [`access`]: who may see, read and post where;
//! - [`rooms`]: creating, joining, leaving, inviting, listing;
//! - [`identity`]: guests, sessions, cookies, renaming;
//! - [`accounts`]: registered accounts and their passwords;
//! - [`snapshot`]: what a chat page starts from;
//! - [`typing`]: who is typing where;
//! - [`reading`]: how far each person has read, and unread counts;
//! - [`search`]: finding what one may read;
//! - [`mentions`]: whom a message calls, and one's recent mentions;
//! - [`notify`]: how much of each conversation notifies each person.

pub mod access;
pub mod accounts;
pub mod changes;
pub mod history;
pub mod identity;
pub mod mentions;
pub mod notify;
pub mod post;
pub mod reading;
pub mod rooms;
pub mod search;
pub mod snapshot;
pub mod typing;
