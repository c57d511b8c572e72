//! What the interface can ask for beyond its own signals: opening a
//! conversation, sending, uploading and recording, rooms, going online.
//! Components reach them through one context ([`use_actions`]) and never
//! ask which side they run on: in the browser, `BrowserActions` hands each
//! to the part of `client/` that does it; the server, which only renders
//! (no click ever happens there), has [`NoActions`], which do nothing.
//!
//! A trait rather than two look-alike structs, so the compiler holds both
//! sides to one interface; resolved statically by feature, so the bundle
//! pays no dispatch for it.

use leptos::prelude::*;

use crate::chat_state::{ChatState, Conversation};
use crate::error::ApiError;
use crate::protocol::{RoomMembers, RoomsRequest, UserId};

/// Everything the interface can ask of the browser session.
// `async fn`: the browser runs one thread, and nothing here is ever sent
// to another, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait ChatActions: Copy + Send + Sync + 'static {
    /// The actions for `chat`.
    fn new(chat: ChatState) -> Self;
    /// Connects, once the page has hydrated.
    fn start(&self);
    /// Shows `conversation`: its address, and its latest page if need be.
    fn open(&self, conversation: Conversation);
    /// Queues `text` for the conversation on screen; false when too many
    /// messages are waiting already.
    fn send_text(&self, text: String) -> bool;
    /// Queues `text` as a reply in the thread of `root` of the conversation
    /// on screen (and in the conversation too, with `also`); false when too
    /// many messages are waiting already.
    fn send_in_thread(&self, text: String, root: i64, also: bool) -> bool;
    /// Loads the replies of the thread of `root` not held yet.
    async fn load_thread(&self, root: i64);
    /// Sends a refused message again.
    fn retry(&self, cid: &str);
    /// Loads the page before `before` in `conversation`.
    async fn load_earlier(&self, conversation: Conversation, before: i64);
    /// Creates a room titled `title` and opens it.
    async fn create_room(&self, title: String, private: bool) -> Result<(), ApiError>;
    /// Adds a page of rooms to the list: a search, or the next page.
    async fn find_rooms(&self, request: RoomsRequest) -> Result<(), ApiError>;
    async fn join_room(&self, room: String) -> Result<(), ApiError>;
    /// Leaves, and goes back to the lobby.
    async fn leave_room(&self, room: String) -> Result<(), ApiError>;
    async fn invite(&self, room: String, user: UserId) -> Result<(), ApiError>;
    /// Who is in `room`, online or when last seen.
    async fn room_members(&self, room: String) -> Result<RoomMembers, ApiError>;
    /// Takes a name, and keeps it across reloads.
    async fn go_online(&self, name: String) -> Result<(), ApiError>;
    /// Sends the files dropped on the conversation.
    fn send_dropped(&self, event: &leptos::ev::DragEvent);
    /// Sends the files pasted into the composer (and keeps them out of
    /// the text).
    fn send_pasted(&self, event: &leptos::ev::ClipboardEvent);
    /// Sends the files picked with the attach button.
    fn send_picked(&self, event: &leptos::ev::Event);
    /// Stops an upload, or takes it out of line.
    fn cancel_upload(&self, key: u32);
    /// Asks for the microphone and starts recording a voice message.
    async fn record(&self) -> Result<(), String>;
    /// Stops recording; the take's URL, to listen to before sending.
    async fn stop_recording(&self) -> Result<String, String>;
    fn send_recording(&self);
    /// Drops the take, or a recording in progress, and the microphone.
    fn discard_recording(&self);
    /// Sends what a message's form asks (edit, delete, react: its
    /// `data-change`) over the socket instead of posting the form; any
    /// other form is left alone.
    fn submit_change(&self, event: &leptos::ev::SubmitEvent);
    /// Says I am typing in the conversation on screen (at most every few
    /// seconds, however often it is called).
    fn typing(&self);
    /// Says how far I have read the conversation on screen, if it moved on.
    fn mark_read(&self);
    /// A click in the conversation: on a message's Reply (answer it), or on
    /// a reply's quote (go to the original, loading earlier pages).
    fn message_click(&self, event: &leptos::ev::MouseEvent);
    /// A key in the conversation: Esc closes the menu it was pressed in
    /// (the innermost first) and leaves the focus on its button.
    fn message_key(&self, event: &leptos::ev::KeyboardEvent);
    /// A key in a sidebar list: the arrow keys, Home and End move through
    /// its buttons.
    fn list_key(&self, event: &leptos::ev::KeyboardEvent);
    /// The skip link: to the composer (or the field to join with).
    fn skip_to_composer(&self, event: &leptos::ev::MouseEvent);
    /// Puts the focus back in the composer once the view has caught up
    /// (after a panel that had it closes).
    fn return_to_composer(&self);
    /// Focuses what `selector` finds once the view has caught up (the
    /// control that replaced the one that had the focus).
    fn focus_soon(&self, selector: &'static str);
    /// Tab and Shift+Tab stay inside what `within` names while it covers
    /// the page (the image viewer; on a phone, the drawer or a thread):
    /// past its last control the focus goes to its first, and back.
    fn keep_tab_within(&self, event: &leptos::ev::KeyboardEvent, within: &'static str);
    /// Where a one-finger touch is (or ended), in the page's pixels; none
    /// for two fingers or more.
    fn touch_point(&self, event: &leptos::ev::TouchEvent) -> Option<(i32, i32)>;
    /// Whether what `selector` names is laid out on screen now (the
    /// phone's drawer button shows only on narrow screens).
    fn is_shown(&self, selector: &'static str) -> bool;
    /// Where the caret is in the text field an event came from, as a byte
    /// offset into its value.
    fn caret(&self, event: &leptos::ev::Event) -> Option<usize>;
    /// Puts `text` in the text field `selector` names, the caret at byte
    /// `caret` (a name picked from the composer's `@` menu).
    fn write_field(&self, selector: &'static str, text: &str, caret: usize);
    /// The `data-index` of the entry of a list a click landed on.
    fn clicked_index(&self, event: &leptos::ev::MouseEvent) -> Option<usize>;
}

/// The actions of this build: the browser session's, or the server's none.
#[cfg(feature = "hydrate")]
pub type Actions = browser::BrowserActions;
#[cfg(not(feature = "hydrate"))]
pub type Actions = NoActions;

/// The actions the chat page provided.
pub fn use_actions() -> Actions {
    let chat = expect_context::<ChatState>();
    use_context::<Actions>().unwrap_or_else(|| Actions::new(chat))
}

/// The server's: it renders pages, where no one clicks.
#[derive(Clone, Copy)]
pub struct NoActions;

impl ChatActions for NoActions {
    fn new(_: ChatState) -> Self {
        NoActions
    }
    fn start(&self) {}
    fn open(&self, _: Conversation) {}
    fn send_text(&self, _: String) -> bool {
        false
    }
    fn retry(&self, _: &str) {}
    fn send_in_thread(&self, _: String, _: i64, _: bool) -> bool {
        false
    }
    async fn load_thread(&self, _: i64) {}
    async fn load_earlier(&self, _: Conversation, _: i64) {}
    async fn create_room(&self, _: String, _: bool) -> Result<(), ApiError> {
        Ok(())
    }
    async fn find_rooms(&self, _: RoomsRequest) -> Result<(), ApiError> {
        Ok(())
    }
    async fn join_room(&self, _: String) -> Result<(), ApiError> {
        Ok(())
    }
    async fn leave_room(&self, _: String) -> Result<(), ApiError> {
        Ok(())
    }
    async fn invite(&self, _: String, _: UserId) -> Result<(), ApiError> {
        Ok(())
    }
    async fn room_members(&self, _: String) -> Result<RoomMembers, ApiError> {
        Ok(RoomMembers::default())
    }
    async fn go_online(&self, _: String) -> Result<(), ApiError> {
        Ok(())
    }
    fn send_dropped(&self, _: &leptos::ev::DragEvent) {}
    fn send_pasted(&self, _: &leptos::ev::ClipboardEvent) {}
    fn send_picked(&self, _: &leptos::ev::Event) {}
    fn cancel_upload(&self, _: u32) {}
    async fn record(&self) -> Result<(), String> {
        Ok(())
    }
    async fn stop_recording(&self) -> Result<String, String> {
        Err(String::new())
    }
    fn send_recording(&self) {}
    fn discard_recording(&self) {}
    fn submit_change(&self, _: &leptos::ev::SubmitEvent) {}
    fn typing(&self) {}
    fn mark_read(&self) {}
    fn message_click(&self, _: &leptos::ev::MouseEvent) {}
    fn message_key(&self, _: &leptos::ev::KeyboardEvent) {}
    fn list_key(&self, _: &leptos::ev::KeyboardEvent) {}
    fn skip_to_composer(&self, _: &leptos::ev::MouseEvent) {}
    fn return_to_composer(&self) {}
    fn focus_soon(&self, _: &'static str) {}
    fn keep_tab_within(&self, _: &leptos::ev::KeyboardEvent, _: &'static str) {}
    fn touch_point(&self, _: &leptos::ev::TouchEvent) -> Option<(i32, i32)> {
        None
    }
    fn is_shown(&self, _: &'static str) -> bool {
        false
    }
    fn caret(&self, _: &leptos::ev::Event) -> Option<usize> {
        None
    }
    fn write_field(&self, _: &'static str, _: &str, _: usize) {}
    fn clicked_index(&self, _: &leptos::ev::MouseEvent) -> Option<usize> {
        None
    }
}

/// The browser's: each action handed to the part of the client that does
/// it (`session`, `upload`, `voice`).
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    use super::ChatActions;
    use crate::chat_state::{ChatState, Conversation};
    use crate::client::{changes, keyboard, session, upload, voice};
    use crate::error::ApiError;
    use crate::protocol::{RoomMembers, RoomsRequest, UserId};

    #[derive(Clone, Copy)]
    pub struct BrowserActions {
        chat: ChatState,
    }

    impl ChatActions for BrowserActions {
        fn new(chat: ChatState) -> Self {
            BrowserActions { chat }
        }

        fn start(&self) {
            session::start(self.chat);
        }

        fn open(&self, conversation: Conversation) {
            session::open(self.chat, conversation);
        }

        fn send_text(&self, text: String) -> bool {
            let to = self.chat.active.get_untracked();
            let cid = session::new_cid();
            if !self.chat.queue(to, text, cid.clone(), None) {
                return false;
            }
            self.chat.attach_reply(&cid);
            session::flush_outbox(self.chat);
            true
        }

        fn send_in_thread(&self, text: String, root: i64, also: bool) -> bool {
            let to = self.chat.active.get_untracked();
            let cid = session::new_cid();
            if !self.chat.queue(to, text, cid.clone(), None) {
                return false;
            }
            self.chat.attach_thread(&cid, root, also);
            session::flush_outbox(self.chat);
            true
        }

        async fn load_thread(&self, root: i64) {
            session::load_thread(self.chat, root).await;
        }

        fn retry(&self, cid: &str) {
            self.chat.retry(cid);
            session::flush_outbox(self.chat);
        }

        async fn load_earlier(&self, conversation: Conversation, before: i64) {
            session::load_earlier(self.chat, conversation, before).await;
        }

        async fn create_room(&self, title: String, private: bool) -> Result<(), ApiError> {
            session::create_room(self.chat, title, private).await?;
            // The new room is open, and the form that had the focus folds away.
            keyboard::focus_typing_place_soon();
            Ok(())
        }

        async fn find_rooms(&self, request: RoomsRequest) -> Result<(), ApiError> {
            session::find_rooms(self.chat, request).await
        }

        async fn join_room(&self, room: String) -> Result<(), ApiError> {
            session::join_room(self.chat, room).await?;
            // The Join button had the focus, and is gone.
            keyboard::focus_typing_place_soon();
            Ok(())
        }

        async fn leave_room(&self, room: String) -> Result<(), ApiError> {
            session::leave_room(self.chat, room).await
        }

        async fn invite(&self, room: String, user: UserId) -> Result<(), ApiError> {
            session::invite(room, user).await
        }

        async fn room_members(&self, room: String) -> Result<RoomMembers, ApiError> {
            session::room_members(room).await
        }

        async fn go_online(&self, name: String) -> Result<(), ApiError> {
            session::go_online(self.chat, name).await?;
            // The join form had the focus, and is gone.
            keyboard::focus_typing_place_soon();
            Ok(())
        }

        fn send_dropped(&self, event: &leptos::ev::DragEvent) {
            if let Some(files) = event.data_transfer().and_then(|data| data.files()) {
                upload::send_files(self.chat, &files);
            }
        }

        fn send_pasted(&self, event: &leptos::ev::ClipboardEvent) {
            if let Some(files) = event.clipboard_data().and_then(|data| data.files()).filter(|files| files.length() > 0)
            {
                event.prevent_default();
                upload::send_files(self.chat, &files);
            }
        }

        fn send_picked(&self, event: &leptos::ev::Event) {
            if let Some(input) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                if let Some(files) = input.files() {
                    upload::send_files(self.chat, &files);
                }
                // Picking the same file again is a new upload.
                input.set_value("");
            }
        }

        fn cancel_upload(&self, key: u32) {
            upload::cancel(self.chat, key);
        }

        async fn record(&self) -> Result<(), String> {
            voice::start().await
        }

        async fn stop_recording(&self) -> Result<String, String> {
            voice::stop().await
        }

        fn send_recording(&self) {
            voice::send(self.chat);
        }

        fn discard_recording(&self) {
            voice::discard();
        }

        fn typing(&self) {
            session::typing(self.chat);
        }

        fn mark_read(&self) {
            session::mark_read(self.chat);
        }

        fn message_click(&self, event: &leptos::ev::MouseEvent) {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
            let number = |element: &web_sys::Element, name: &str| element.get_attribute(name)?.parse::<i64>().ok();
            // A menu's choice closes the menu.
            if let (Ok(Some(_)), Ok(Some(menu))) = (target.closest("button"), target.closest(".message-menu")) {
                let _ = menu.remove_attribute("open");
            }
            if let Ok(Some(button)) = target.closest("[data-reply]") {
                if let Some(id) = number(&button, "data-reply") {
                    self.chat.reply_to_message(id);
                    keyboard::focus_typing_place();
                }
            } else if let Ok(Some(summary)) = target.closest("[data-thread]") {
                if let Some(root) = number(&summary, "data-thread") {
                    self.chat.show_thread(Some(root));
                    keyboard::focus_soon("[data-testid=thread-composer]");
                }
            } else if let Ok(Some(quote)) = target.closest("[data-jump]") {
                event.prevent_default();
                if let (Some(id), Some(seq)) = (number(&quote, "data-jump"), number(&quote, "data-seq")) {
                    leptos::task::spawn_local(session::jump_to(self.chat, id, seq));
                }
            }
        }

        fn list_key(&self, event: &leptos::ev::KeyboardEvent) {
            keyboard::move_in_list(event);
        }

        fn skip_to_composer(&self, event: &leptos::ev::MouseEvent) {
            keyboard::skip_link(event);
        }

        fn return_to_composer(&self) {
            keyboard::focus_typing_place_soon();
        }

        fn focus_soon(&self, selector: &'static str) {
            keyboard::focus_soon(selector);
        }

        fn keep_tab_within(&self, event: &leptos::ev::KeyboardEvent, within: &'static str) {
            keyboard::keep_tab_within(event, within);
        }

        fn touch_point(&self, event: &leptos::ev::TouchEvent) -> Option<(i32, i32)> {
            keyboard::touch_point(event)
        }

        fn is_shown(&self, selector: &'static str) -> bool {
            keyboard::is_shown(selector)
        }

        fn caret(&self, event: &leptos::ev::Event) -> Option<usize> {
            let field = event.target()?.dyn_into::<web_sys::HtmlTextAreaElement>().ok()?;
            let units = usize::try_from(field.selection_start().ok()??).ok()?;
            // The browser counts UTF-16 units; the draft is UTF-8.
            let value = field.value();
            let mut counted = 0;
            let byte = value.char_indices().find(|(_, c)| {
                counted += c.len_utf16();
                counted > units
            });
            Some(byte.map_or(value.len(), |(at, _)| at))
        }

        fn write_field(&self, selector: &'static str, text: &str, caret: usize) {
            let field = document().query_selector(selector).ok().flatten();
            let Some(field) = field.and_then(|f| f.dyn_into::<web_sys::HtmlTextAreaElement>().ok()) else { return };
            field.set_value(text);
            let units = text.get(..caret).map_or(0, |before| before.encode_utf16().count());
            let units = u32::try_from(units).unwrap_or(u32::MAX);
            let _ = field.set_selection_range(units, units);
        }

        fn clicked_index(&self, event: &leptos::ev::MouseEvent) -> Option<usize> {
            let target = event.target()?.dyn_into::<web_sys::Element>().ok()?;
            target.closest("[data-index]").ok()??.get_attribute("data-index")?.parse().ok()
        }

        fn message_key(&self, event: &leptos::ev::KeyboardEvent) {
            if event.key() != "Escape" {
                return;
            }
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
            let Ok(Some(menu)) = target.closest("details[open]") else { return };
            event.prevent_default();
            let _ = menu.remove_attribute("open");
            let summary = menu.query_selector(":scope > summary").ok().flatten();
            if let Some(summary) = summary.and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = summary.focus();
            }
        }

        fn submit_change(&self, event: &leptos::ev::SubmitEvent) {
            let Some(form) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
                return;
            };
            let Some(change) = read_change(&form, event) else { return };
            event.prevent_default();
            // The menus the form sits in close; the change shows as it
            // comes back live.
            for menu in ["details", ".message-menu"] {
                if let Ok(Some(menu)) = form.closest(menu) {
                    let _ = menu.remove_attribute("open");
                }
            }
            let chat = self.chat;
            leptos::task::spawn_local(changes::change_message(chat, change));
        }
    }

    /// The change a message's form asks for: its `data-change`, the
    /// message's `id`, and its `text`, or its `emoji` (the button pressed,
    /// or the field).
    fn read_change(form: &web_sys::HtmlFormElement, event: &leptos::ev::SubmitEvent) -> Option<changes::MessageChange> {
        let fields = web_sys::FormData::new_with_form(form).ok()?;
        let field = |name: &str| fields.get(name).as_string();
        let id = field("id")?.parse().ok()?;
        Some(match form.get_attribute("data-change")?.as_str() {
            "edit" => changes::MessageChange::Edit { id, text: field("text")? },
            "delete" => changes::MessageChange::Delete { id },
            "react" => {
                let pressed = event.submitter().and_then(|button| button.get_attribute("value"));
                changes::MessageChange::React { id, emoji: pressed.or_else(|| field("emoji"))? }
            }
            _ => return None,
        })
    }
}
