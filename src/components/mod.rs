//! One file per piece of the UI. Server functions sit beside the component
//! that calls them; what a component asks of the browser goes through
//! `crate::actions`, so no component knows which side it runs on.

pub mod account;
pub mod announcer;
pub mod attachments;
pub mod chat_page;
pub mod composer;
pub mod connection_status;
pub mod conversation;
pub mod forms;
pub mod icons;
pub mod image_viewer;
pub mod join_form;
pub mod language_switch;
pub mod media;
pub mod mention_menu;
pub mod message;
pub mod message_actions;
pub mod notify_switch;
pub mod people;
pub mod room_members;
pub mod rooms;
pub mod theme_switch;
pub mod thread;
