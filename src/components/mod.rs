//! One file per piece of the UI. Server functions sit beside the component
//! that calls them.

pub mod account;
pub mod chat_page;
pub mod composer;
pub mod connection_status;
pub mod conversation;
pub mod join_form;
pub mod people;
