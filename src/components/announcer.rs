//! What a screen reader hears of the conversation: a polite live region,
//! outside the message list, that says who wrote what as messages arrive.
//! It is bounded: one message is read as it comes, and the ones that come
//! in the next few seconds are summed up once ("4 new messages"), so a busy
//! room never queues a flood of announcements. The list itself is not a
//! live region: loading earlier pages would be read out whole.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;

use crate::i18n::{fill, words};

/// How long after an announcement the next ones are gathered into one.
const QUIET_MS: u64 = 3_000;

/// The longest text read of one message.
const MAX_READ_CHARS: usize = 140;

#[derive(Clone)]
pub struct Announcer {
    said: RwSignal<String>,
    /// While quiet: how many messages came, and the last of them. A plain
    /// lock rather than more signals: nothing renders from it, and each
    /// new signal type costs the bundle its own reactive machinery.
    quiet: Arc<Mutex<Option<(usize, String)>>>,
}

impl Announcer {
    pub fn new() -> Self {
        Announcer { said: RwSignal::new(String::new()), quiet: Arc::new(Mutex::new(None)) }
    }

    /// A message from someone else arrived in the open conversation.
    pub fn message(&self, from: &str, text: &str) {
        let mut line = format!("{from}: {text}");
        if let Some((cut, _)) = line.char_indices().nth(MAX_READ_CHARS) {
            line.truncate(cut);
            line.push('…');
        }
        let Ok(mut quiet) = self.quiet.lock() else { return };
        match quiet.as_mut() {
            Some((count, last)) => {
                *count += 1;
                *last = line;
            }
            None => {
                *quiet = Some((0, String::new()));
                drop(quiet);
                self.say(line);
            }
        }
    }

    /// Says `line` now, then gathers what comes for a while.
    fn say(&self, line: String) {
        self.said.set(line);
        let this = self.clone();
        set_timeout(
            move || {
                let gathered = this.quiet.lock().ok().and_then(|mut quiet| quiet.take());
                let next = match gathered {
                    None | Some((0, _)) => return,
                    Some((1, last)) => last,
                    Some((n, _)) => fill(words().announce_many().inner(), &[("count", &n.to_string())]),
                };
                if let Ok(mut quiet) = this.quiet.lock() {
                    *quiet = Some((0, String::new()));
                }
                this.say(next);
            },
            std::time::Duration::from_millis(QUIET_MS),
        );
    }

    pub fn view(&self) -> impl IntoView {
        let said = self.said;
        view! { <p class="visually-hidden" aria-live="polite" data-testid="announcer">{move || said.get()}</p> }
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}
