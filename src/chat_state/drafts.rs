//! Drafts: what I typed in a conversation and have not sent, kept when I
//! open another and given back when I return, as chat apps do. The
//! composer shows one draft at a time (`ChatState::draft`); the others wait
//! here. The browser also keeps them all in the tab's session storage
//! (`client::drafts`), so a reload or a language switch loses none.
//! Each thread keeps its own draft too, for as long as the page is open.

use leptos::prelude::*;

use super::{ChatState, Conversation};
use crate::protocol::ConversationId;

/// How many conversations keep a draft; past it the oldest one goes.
pub const MAX_DRAFTS: usize = 20;

impl ChatState {
    /// Keeps the composer's text as the draft of `leaving`, and puts the
    /// draft of `next` (or nothing) in the composer.
    pub(super) fn swap_draft(&self, leaving: Option<ConversationId>, next: Option<&ConversationId>) {
        if leaving.as_ref() != next {
            swap(self.draft, self.waiting_drafts, leaving, next);
        }
    }

    /// Puts a caption that will not go out (its file was refused, failed
    /// or cancelled) back in the draft of the conversation it was for,
    /// before whatever is there, so no text is lost: the composer's if
    /// that conversation is on screen, else the one waiting for it.
    pub fn restore_draft(&self, caption: String, to: &Conversation) {
        if caption.is_empty() {
            return;
        }
        let joined =
            |draft: &str| if draft.trim().is_empty() { caption.clone() } else { format!("{caption}\n{draft}") };
        let me = self.me_id();
        let shown = self.active.with_untracked(|active| active.id(me));
        match to.id(me) {
            Some(id) if Some(&id) != shown.as_ref() => self.waiting_drafts.update_value(|drafts| {
                let waiting = drafts.iter().find(|(kept, _)| *kept == id).map(|(_, text)| text.clone());
                keep(drafts, id, joined(waiting.as_deref().unwrap_or_default()));
            }),
            _ => self.draft.update(|draft| *draft = joined(draft)),
        }
    }

    /// Opens the thread of `root` beside the conversation on screen (or
    /// closes the one open, with `None`): the thread composer's text stays
    /// with the thread it was typed in, and the draft of the one opened
    /// comes back.
    pub fn show_thread(&self, root: Option<i64>) {
        let open = self.thread.get_untracked();
        if open == root {
            return;
        }
        let shown = self.active.with_untracked(|active| active.id(self.me_id()));
        let leaving = shown.clone().zip(open);
        swap(self.thread_draft, self.waiting_thread_drafts, leaving, shown.zip(root).as_ref());
        self.thread.set(root);
    }

    /// Forgets every draft, the composers' too: someone else is signed in
    /// now (or nobody), and what was typed was not theirs.
    pub fn forget_drafts(&self) {
        self.waiting_drafts.set_value(Vec::new());
        self.waiting_thread_drafts.set_value(Vec::new());
        for draft in [self.draft, self.thread_draft] {
            if draft.with_untracked(|draft| !draft.is_empty()) {
                draft.set(String::new());
            }
        }
    }

    /// Every draft not sent, the composer's included, oldest first.
    pub fn drafts(&self) -> Vec<(ConversationId, String)> {
        let mut drafts = self.waiting_drafts.get_value();
        if let Some(shown) = self.active.with_untracked(|active| active.id(self.me_id())) {
            keep(&mut drafts, shown, self.draft.get_untracked());
        }
        drafts
    }

    /// Puts back the drafts an earlier page of this tab kept: the one of
    /// the conversation on screen into the composer (unless I have typed
    /// there already), the others to wait.
    pub fn restore_drafts(&self, kept: Vec<(ConversationId, String)>) {
        let shown = self.active.with_untracked(|active| active.id(self.me_id()));
        let mut waiting = self.waiting_drafts.get_value();
        for (id, text) in kept {
            if Some(&id) == shown.as_ref() {
                if self.draft.with_untracked(|draft| draft.trim().is_empty()) && !text.trim().is_empty() {
                    self.draft.set(text);
                }
            } else {
                keep(&mut waiting, id, text);
            }
        }
        self.waiting_drafts.set_value(waiting);
    }
}

/// Keeps what `composer` holds as the draft of `leaving`, and puts the
/// draft of `next` (or nothing) in it: the conversation's composer, keyed
/// by conversation, or the thread's, keyed by conversation and root.
fn swap<K: PartialEq + Send + Sync + 'static>(
    composer: RwSignal<String>,
    waiting: StoredValue<Vec<(K, String)>>,
    leaving: Option<K>,
    next: Option<&K>,
) {
    let text = composer.get_untracked();
    let given_back = waiting.try_update_value(|drafts| {
        if let Some(leaving) = leaving {
            keep(drafts, leaving, text);
        }
        let at = next.and_then(|next| drafts.iter().position(|(id, _)| id == next))?;
        Some(drafts.remove(at).1)
    });
    let given_back = given_back.flatten().unwrap_or_default();
    if composer.with_untracked(|draft| *draft != given_back) {
        composer.set(given_back);
    }
}

/// Keeps `text` as the newest draft of `id` (a conversation, or a thread
/// in one; none if it is blank), within [`MAX_DRAFTS`].
fn keep<K: PartialEq>(drafts: &mut Vec<(K, String)>, id: K, text: String) {
    drafts.retain(|(kept, _)| *kept != id);
    if text.trim().is_empty() {
        return;
    }
    if drafts.len() >= MAX_DRAFTS {
        drafts.remove(0);
    }
    drafts.push((id, text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_state::{ChatSnapshot, Conversation};
    use crate::protocol::User;

    fn signed_in() -> ChatState {
        let snapshot = ChatSnapshot {
            me: Some(User { id: 1, name: "ann".into() }),
            room: "lobby".into(),
            ..ChatSnapshot::default()
        };
        ChatState::new(snapshot)
    }

    #[test]
    fn each_conversation_keeps_its_own_draft() {
        Owner::new_root(None).with(|| {
            let chat = signed_in();
            chat.draft.set("half a thought".into());
            chat.open(Conversation::Room("design".into()));
            assert_eq!(chat.draft.get_untracked(), "", "a new conversation starts empty");
            chat.draft.set("for design".into());
            chat.open(Conversation::Direct(User { id: 2, name: "bo".into() }));
            chat.draft.set("   ".into());
            chat.open(Conversation::Room("lobby".into()));
            assert_eq!(chat.draft.get_untracked(), "half a thought");
            chat.open(Conversation::Room("design".into()));
            assert_eq!(chat.draft.get_untracked(), "for design");
            // Blank drafts are not kept; the one on screen is listed too.
            let ids: Vec<ConversationId> = chat.drafts().into_iter().map(|(id, _)| id).collect();
            assert_eq!(ids, vec![ConversationId::room("lobby"), ConversationId::room("design")]);
        });
    }

    #[test]
    fn a_returned_caption_goes_to_its_own_conversation() {
        Owner::new_root(None).with(|| {
            let chat = signed_in();
            let design = Conversation::Room("design".into());
            chat.open(design.clone());
            chat.draft.set("typed in design".into());
            chat.open(Conversation::Room("lobby".into()));
            chat.draft.set("typed in the lobby".into());
            // A file sent to #design failed while the lobby is on screen.
            chat.restore_draft("the file's caption".into(), &design);
            assert_eq!(chat.draft.get_untracked(), "typed in the lobby");
            chat.restore_draft("a lobby caption".into(), &Conversation::Room("lobby".into()));
            assert_eq!(chat.draft.get_untracked(), "a lobby caption\ntyped in the lobby");
            chat.open(design);
            assert_eq!(chat.draft.get_untracked(), "the file's caption\ntyped in design");
            chat.forget_drafts();
            assert_eq!(chat.draft.get_untracked(), "");
            assert!(chat.drafts().is_empty());
        });
    }

    #[test]
    fn each_thread_keeps_its_own_draft() {
        Owner::new_root(None).with(|| {
            let chat = signed_in();
            chat.show_thread(Some(10));
            chat.thread_draft.set("about ten".into());
            chat.show_thread(Some(11));
            assert_eq!(chat.thread_draft.get_untracked(), "", "another thread starts empty");
            chat.thread_draft.set("about eleven".into());
            chat.show_thread(None);
            assert_eq!(chat.thread_draft.get_untracked(), "");
            chat.show_thread(Some(10));
            assert_eq!(chat.thread_draft.get_untracked(), "about ten");
            // Opening another conversation closes the thread, keeping its
            // draft; thread 10 there is another thread.
            chat.open(Conversation::Room("design".into()));
            assert_eq!(chat.thread.get_untracked(), None);
            chat.show_thread(Some(10));
            assert_eq!(chat.thread_draft.get_untracked(), "");
            chat.open(Conversation::Room("lobby".into()));
            chat.show_thread(Some(11));
            assert_eq!(chat.thread_draft.get_untracked(), "about eleven");
            chat.forget_drafts();
            assert_eq!(chat.thread_draft.get_untracked(), "");
            chat.show_thread(Some(10));
            assert_eq!(chat.thread_draft.get_untracked(), "", "forgotten");
        });
    }

    #[test]
    fn drafts_are_bounded_and_restored() {
        Owner::new_root(None).with(|| {
            let chat = signed_in();
            for n in 0..MAX_DRAFTS + 5 {
                chat.open(Conversation::Room(format!("room-{n}")));
                chat.draft.set(format!("draft {n}"));
            }
            let drafts = chat.drafts();
            assert_eq!(drafts.len(), MAX_DRAFTS);
            assert_eq!(drafts[0].1, "draft 5", "the oldest went first");

            let later = signed_in();
            later.draft.set(String::new());
            let mut kept = drafts;
            kept.push((ConversationId::room("lobby"), "typed before the reload".into()));
            later.restore_drafts(kept);
            assert_eq!(later.draft.get_untracked(), "typed before the reload");
            later.open(Conversation::Room("room-24".into()));
            assert_eq!(later.draft.get_untracked(), "draft 24");
        });
    }
}
