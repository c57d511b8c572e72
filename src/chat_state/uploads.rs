//! Files on their way up: one entry per file from the moment it is picked
//! (or dropped, or pasted, or recorded) until the server has it. The entry
//! then becomes an ordinary outbox message carrying the file, so nothing
//! half-uploaded ever shows in the conversation.

use leptos::prelude::*;

use super::{ChatState, Conversation};
use crate::protocol::human_size;

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
    pub fn add_upload(&self, key: u32, name: String, size: u64, to: Conversation) -> Option<u32> {
        let limit = self.max_upload_bytes.get_value();
        let problem = if size > limit {
            Some(format!("“{name}” is too large ({}): the limit is {}.", human_size(size), human_size(limit)))
        } else if size == 0 {
            Some(format!("“{name}” is empty."))
        } else if self.uploads.with_untracked(|tray| tray.len() >= MAX_TRAY) {
            Some("Too many files at once; wait for some to finish.".to_owned())
        } else {
            None
        };
        let accepted = problem.is_none();
        self.uploads.update(|tray| tray.push(Upload { key, name, size, sent: 0, to, problem }));
        accepted.then_some(key)
    }

    pub fn upload_progress(&self, key: u32, sent: u64) {
        self.uploads.update(|tray| {
            if let Some(upload) = tray.iter_mut().find(|u| u.key == key) {
                upload.sent = sent;
            }
        });
    }

    pub fn upload_failed(&self, key: u32, problem: String) {
        self.uploads.update(|tray| {
            if let Some(upload) = tray.iter_mut().find(|u| u.key == key) {
                upload.problem = Some(problem);
            }
        });
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
            assert_eq!(chat.add_upload(1, "a.png".into(), 400, Conversation::lobby()), Some(1));
            chat.upload_progress(1, 100);
            assert_eq!(chat.uploads.get_untracked()[0].percent(), 25);
            assert_eq!(chat.add_upload(2, "big.mov".into(), 5000, Conversation::lobby()), None);
            let refused = chat.uploads.get_untracked()[1].problem.clone().unwrap_or_default();
            assert_eq!(refused, "“big.mov” is too large (5.0 KB): the limit is 1.0 KB.");
            chat.remove_upload(1);
            chat.remove_upload(2);
            assert!(chat.uploads.get_untracked().is_empty());
        });
    }
}
