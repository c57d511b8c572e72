//! Files on their way up: one entry per file from the moment it is picked
//! (or dropped, or pasted, or recorded) until the server has it. The entry
//! then becomes an ordinary outbox message carrying the file, so nothing
//! half-uploaded ever shows in the conversation.
//!
//! A file can carry a caption: the text in the composer when it was
//! picked, or text sent while it was still on its way. The two go out as
//! one message.

use leptos::prelude::*;

use super::{ChatState, Conversation};
use crate::i18n::{fill, words};
use crate::protocol::{human_size, validate_text};

/// At most this many files in the tray at once (the server also caps
/// uploads in progress per user).
pub const MAX_TRAY: usize = 20;

#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    /// Tells uploads apart (unique for the page's life).
    pub key: u32,
    pub name: String,
    pub size: u64,
    /// Bytes the browser has sent so far.
    pub sent: u64,
    /// Where the message carrying it goes.
    pub to: Conversation,
    /// Why it failed, in words; the entry stays until dismissed.
    pub problem: Option<String>,
    /// The text that goes out with the file, if any.
    pub caption: String,
}

impl Upload {
    /// 0–100.
    pub fn percent(&self) -> u32 {
        if self.size == 0 {
            return 0;
        }
        ((self.sent.min(self.size) as f64 / self.size as f64) * 100.0).round() as u32
    }
}

impl ChatState {
    /// Adds a file to the tray, checked against the server's size limit
    /// first; returns its key, or `None` if it is refused at once (the
    /// entry then says why).
    pub fn add_upload(&self, key: u32, name: String, size: u64, to: Conversation, caption: String) -> Option<u32> {
        let limit = self.max_upload_bytes.get_value();
        let words = words();
        let problem = if size > limit {
            let (size, limit) = (human_size(size), human_size(limit));
            Some(fill(words.upload_too_large().inner(), &[("name", &name), ("size", &size), ("limit", &limit)]))
        } else if size == 0 {
            Some(fill(words.upload_empty().inner(), &[("name", &name)]))
        } else if self.uploads.with_untracked(|tray| tray.len() >= MAX_TRAY) {
            Some(words.upload_tray_full().inner().to_owned())
        } else {
            None
        };
        let accepted = problem.is_none();
        // A refused file's caption goes back to the composer.
        let caption = if accepted {
            caption
        } else {
            self.restore_draft(caption, &to);
            String::new()
        };
        self.uploads.update(|tray| tray.push(Upload { key, name, size, sent: 0, to, problem, caption }));
        accepted.then_some(key)
    }

    /// The composer's text as a caption for a file picked now, if it is
    /// one a message could carry; the composer is then emptied.
    pub fn take_caption(&self) -> String {
        let caption = self.draft.with_untracked(|draft| validate_text(draft).map(str::to_owned).unwrap_or_default());
        if !caption.is_empty() {
            self.draft.set(String::new());
        }
        caption
    }

    /// Gives `text` to a file still on its way to the conversation on
    /// screen, one without a caption; false if there is none.
    pub fn caption_upload(&self, text: &str) -> bool {
        let to = self.active.get_untracked();
        let mut given = false;
        self.uploads.update(|tray| {
            let waiting = tray.iter_mut().rev().find(|u| u.to == to && u.problem.is_none() && u.caption.is_empty());
            if let Some(upload) = waiting {
                upload.caption = text.to_owned();
                given = true;
            }
        });
        given
    }

    /// Takes a finished upload off the tray.
    pub fn take_upload(&self, key: u32) -> Option<Upload> {
        let mut taken = None;
        self.uploads.update(|tray| {
            if let Some(at) = tray.iter().position(|u| u.key == key) {
                taken = Some(tray.remove(at));
            }
        });
        taken
    }

    pub fn upload_progress(&self, key: u32, sent: u64) {
        self.uploads.update(|tray| {
            if let Some(upload) = tray.iter_mut().find(|u| u.key == key) {
                upload.sent = sent;
            }
        });
    }

    /// `key` failed: it stays in the tray with why, and its caption goes
    /// back to its conversation's draft.
    pub fn upload_failed(&self, key: u32, problem: String) {
        let mut returned = None;
        self.uploads.update(|tray| {
            if let Some(upload) = tray.iter_mut().find(|u| u.key == key) {
                upload.problem = Some(problem);
                returned = Some((std::mem::take(&mut upload.caption), upload.to.clone()));
            }
        });
        if let Some((caption, to)) = returned {
            self.restore_draft(caption, &to);
        }
    }

    /// Done, cancelled or dismissed.
    pub fn remove_upload(&self, key: u32) {
        self.uploads.update(|tray| tray.retain(|u| u.key != key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_state::ChatSnapshot;

    #[test]
    fn the_tray_refuses_what_the_server_would() {
        Owner::new_root(None).with(|| {
            let chat = ChatState::new(ChatSnapshot { max_upload_bytes: 1000, ..ChatSnapshot::default() });
            assert_eq!(chat.add_upload(1, "a.png".into(), 400, Conversation::lobby(), String::new()), Some(1));
            chat.upload_progress(1, 100);
            assert_eq!(chat.uploads.get_untracked()[0].percent(), 25);
            assert_eq!(chat.add_upload(2, "big.mov".into(), 5000, Conversation::lobby(), String::new()), None);
            let refused = chat.uploads.get_untracked()[1].problem.clone().unwrap_or_default();
            assert_eq!(refused, "“big.mov” is too large (5.0 KB): the limit is 1.0 KB.");
            chat.remove_upload(1);
            chat.remove_upload(2);
            assert!(chat.uploads.get_untracked().is_empty());
        });
    }

    #[test]
    fn a_file_takes_the_composers_text_or_text_sent_while_it_uploads() {
        Owner::new_root(None).with(|| {
            let snapshot = ChatSnapshot { room: "lobby".into(), max_upload_bytes: 1000, ..ChatSnapshot::default() };
            let chat = ChatState::new(snapshot);
            chat.draft.set("  ".into());
            assert_eq!(chat.take_caption(), "", "blank text is no caption");
            chat.draft.set(" look at this ".into());
            assert_eq!(chat.take_caption(), "look at this");
            assert_eq!(chat.draft.get_untracked(), "");
            chat.add_upload(1, "a.png".into(), 400, Conversation::lobby(), "look at this".into());
            assert!(!chat.caption_upload("and this"), "it has one already");
            chat.add_upload(2, "b.png".into(), 400, Conversation::lobby(), String::new());
            assert!(chat.caption_upload("and this"));
            assert_eq!(chat.take_upload(2).map(|u| u.caption).as_deref(), Some("and this"));
            assert!(!chat.caption_upload("too late"), "nothing is on its way without a caption");
            // A failed file gives its caption back; a refused one never takes it.
            chat.upload_failed(1, "the connection failed".into());
            assert_eq!(chat.draft.get_untracked(), "look at this");
            chat.draft.set("big one".into());
            let caption = chat.take_caption();
            assert_eq!(chat.add_upload(3, "big.mov".into(), 5000, Conversation::lobby(), caption), None);
            assert_eq!(chat.draft.get_untracked(), "big one");
        });
    }
}
