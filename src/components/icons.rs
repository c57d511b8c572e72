//! The interface's icons, as inline SVG drawn in `currentColor`: emoji
//! showed as empty boxes on machines without an emoji font. Decorative
//! ones are hidden from screen readers (their control carries the name);
//! one that says something alone has a role and a label.
//!
//! Each is markup in a constant, put in one `<span>` shape: one view type
//! for every icon keeps the browser bundle small.

use leptos::prelude::*;

/// A padlock: a private room.
const LOCK: &str = r#"<svg viewBox="0 0 16 16"><path fill="currentColor" d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7zm2 0h4V5a2 2 0 0 0-4 0z"/></svg>"#;
/// A paper clip: attach files.
const PAPER_CLIP: &str = r#"<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"><path d="M9 7v9a3 3 0 0 0 6 0V6a4.5 4.5 0 0 0-9 0v10a6 6 0 0 0 12 0V8"/></svg>"#;
/// A microphone: record a voice message.
const MICROPHONE: &str = r#"<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7"/></svg>"#;
/// A sheet with a folded corner: a file.
const FILE: &str = r#"<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"><path d="M6 3h8l4 4v14H6zM14 3v4h4"/></svg>"#;

/// `svg` in a span; with a `label`, it is an image by that name, else
/// decoration.
fn icon(svg: &'static str, label: Option<&'static str>) -> impl IntoView {
    view! {
        <span class="icon" role=label.map(|_| "img") aria-label=label aria-hidden=label.is_none().then_some("true")
            inner_html=svg></span>
    }
}

pub fn lock() -> impl IntoView {
    icon(LOCK, Some("private"))
}

pub fn paper_clip() -> impl IntoView {
    icon(PAPER_CLIP, None)
}

pub fn microphone() -> impl IntoView {
    icon(MICROPHONE, None)
}

pub fn file() -> impl IntoView {
    icon(FILE, None)
}
