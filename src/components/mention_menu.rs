//! The composer's `@` menu: typing `@` offers the conversation's people,
//! online ones first (and in a room `@here` and `@room`), narrowed as the
//! name is typed. Arrow keys move through it, Enter or Tab picks, Esc
//! closes it; a click or a tap picks too. The pick writes `@name ` into the
//! draft and is remembered, so the message calls that very person
//! (`chat_state::mentions`).
//!
//! The list is escaped markup with one delegated handler, as the message
//! tools are: a view per entry costs the browser bundle more.

use leptos::prelude::*;

use super::message_actions::escape;
use crate::actions::{use_actions, Actions, ChatActions};
use crate::chat_state::{typed_mention, ChatState, Conversation, Offer};
use crate::i18n::words;
use crate::protocol::{Everyone, LOBBY};

/// The menu's element id, which the composer's field points to.
pub const MENU_ID: &str = "mention-menu";

/// The menu's state: the `@name` being typed (where its `@` is in the
/// draft, and what follows it), and the entry chosen.
#[derive(Clone, Copy)]
pub struct MentionMenu {
    chat: ChatState,
    actions: Actions,
    typing: RwSignal<Option<(usize, String)>>,
    chosen: RwSignal<usize>,
    /// The entries as last shown, so a press picks the one it landed on
    /// even if who is online changed since.
    shown: StoredValue<Vec<Offer>>,
    draft: RwSignal<String>,
    /// The field it writes into.
    field: &'static str,
}

impl MentionMenu {
    pub fn new(chat: ChatState, draft: RwSignal<String>, field: &'static str) -> MentionMenu {
        let (typing, chosen, shown) = (RwSignal::new(None), RwSignal::new(0), StoredValue::new(Vec::new()));
        MentionMenu { chat, actions: use_actions(), typing, chosen, shown, draft, field }
    }

    /// What it offers now (nothing while closed).
    fn offers(&self) -> Vec<Offer> {
        let chat = self.chat;
        self.typing.with(|typing| typing.as_ref().map(|(_, query)| chat.offers(query)).unwrap_or_default())
    }

    /// Whether it is open: something typed after an `@` that someone's
    /// name starts with.
    pub fn is_open(&self) -> bool {
        !self.offers().is_empty()
    }

    /// The id of the chosen entry, for the field's `aria-activedescendant`.
    pub fn chosen_id(&self) -> Option<String> {
        let count = self.offers().len();
        (count > 0).then(|| format!("mention-{}", self.chosen.get().min(count - 1)))
    }

    /// The draft changed, the caret at `caret`: opens, narrows or closes.
    /// Opening in a room asks for its members, to offer them.
    pub fn typed(&self, caret: Option<usize>) {
        let typing = caret.and_then(|caret| self.draft.with_untracked(|draft| typed_mention(draft, caret)));
        if self.typing.with_untracked(|now| *now != typing) {
            let opens = typing.is_some() && self.typing.with_untracked(Option::is_none);
            self.typing.set(typing);
            self.chosen.set(0);
            if opens {
                self.ask_members();
            }
        }
    }

    /// The members of the room on screen, for the menu (online ones first);
    /// it shows them as soon as they come.
    fn ask_members(&self) {
        let Conversation::Room(room) = self.chat.active.get_untracked() else { return };
        if room == LOBBY {
            return;
        }
        let menu = *self;
        leptos::task::spawn_local(async move {
            if let Ok(list) = menu.actions.room_members(room.clone()).await {
                menu.chat.room_people.set_value(Some((room, list.members)));
                // Offered again, from the members (unless the composer went
                // meanwhile).
                menu.typing.try_update(|_| {});
            }
        });
    }

    /// Closes it. Also called when the field loses the focus, which
    /// happens as the field leaves the page (signing out, a reset): the
    /// menu's signals may be gone by then, so nothing here insists.
    pub fn close(&self) {
        if self.typing.try_with_untracked(Option::is_some) == Some(true) {
            self.typing.try_set(None);
        }
    }

    /// A key pressed in the field: true if it was the open menu's (moved,
    /// picked or closed), so the field does nothing else with it.
    pub fn key(&self, event: &leptos::ev::KeyboardEvent) -> bool {
        let count = self.shown.with_value(Vec::len);
        if self.typing.with_untracked(Option::is_none) || count == 0 || event.is_composing() {
            return false;
        }
        let chosen = self.chosen.get_untracked().min(count - 1);
        match event.key().as_str() {
            "ArrowDown" => self.chosen.set((chosen + 1) % count),
            "ArrowUp" => self.chosen.set((chosen + count - 1) % count),
            "Enter" | "Tab" if !event.shift_key() => self.pick(chosen),
            "Escape" => self.close(),
            _ => return false,
        }
        event.prevent_default();
        true
    }

    /// Writes entry `index` into the draft in place of what was typed
    /// after the `@`, with a space after it.
    fn pick(&self, index: usize) {
        let offer = self.shown.with_value(|shown| shown.get(index).cloned());
        let (Some((at, query)), Some(offer)) = (self.typing.get_untracked(), offer) else { return };
        self.chat.picked(&offer);
        let written = match &offer {
            Offer::Person(user, _) => format!("@{} ", user.name),
            Offer::Everyone(everyone) => format!("{} ", everyone.written()),
        };
        let draft = self.draft.get_untracked();
        // The whole word the caret is in goes, not only its part before
        // the caret: picking in `@bo|b` gives `@bob `, not `@bob b`.
        let typed = at + 1 + query.len();
        let word = draft.get(typed..).map_or(0, |rest| rest.find(char::is_whitespace).unwrap_or(rest.len()));
        let (Some(before), Some(after)) = (draft.get(..at), draft.get(typed + word..)) else { return };
        let caret = before.len() + written.len();
        let text = format!("{before}{written}{after}");
        // The field first, so the caret stays where the name ends.
        self.actions.write_field(self.field, &text, caret);
        self.draft.set(text);
        self.close();
    }
}

/// The list under the field, while the menu is open.
#[component]
pub fn MentionList(menu: MentionMenu) -> impl IntoView {
    let (chat, actions) = (menu.chat, menu.actions);
    let markup = move || {
        let chosen = menu.chosen.get();
        let offers = menu.offers();
        let mut markup = String::new();
        for (index, offer) in offers.iter().enumerate() {
            let (name, hint) = match offer {
                Offer::Person(user, online) => (
                    format!("@{}", chat.display_name(user)),
                    if *online { "" } else { words().offline_suffix().inner() },
                ),
                Offer::Everyone(Everyone::Here) => ("@here".to_owned(), words().mention_here_hint().inner()),
                Offer::Everyone(Everyone::Room) => ("@room".to_owned(), words().mention_room_hint().inner()),
            };
            let selected = index == chosen;
            markup.push_str(&format!(
                "<li role=\"option\" id=\"mention-{index}\" data-index=\"{index}\" aria-selected=\"{selected}\"{}>{}<span class=\"hint\">{}</span></li>",
                if selected { " class=\"chosen\"" } else { "" },
                escape(&name),
                escape(hint),
            ));
        }
        menu.shown.set_value(offers);
        markup
    };
    // A press keeps the focus in the field (no blur), and picks.
    let pressed = move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        if let Some(index) = actions.clicked_index(&event) {
            menu.pick(index);
        }
    };
    view! {
        <ul
            class="mention-menu"
            id=MENU_ID
            role="listbox"
            aria-label=words().mention_menu_label().inner()
            data-testid="mention-menu"
            hidden=move || !menu.is_open()
            inner_html=markup
            on:mousedown=pressed
        ></ul>
    }
}
