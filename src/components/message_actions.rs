//! What can be done to a message once it is sent: reacting (the chips
//! under it, and a menu of quick emoji), and editing or deleting one's
//! own. Each is a plain form that posts to its server function below, so
//! it works without JavaScript; with the WASM loaded, the conversation's
//! list catches every form's submit and sends it over the socket instead
//! (`ChatActions::submit_change`, by the form's `data-change`), and the
//! change shows when it comes back live.
//!
//! The forms are markup written by [`message_tools`], one string per
//! message put in one element: the same on the server and in the browser,
//! and no view types or handlers per form, which in Leptos views cost the
//! browser bundle about 15 KB (docs/performance.md, finding 32). Every
//! value in it is escaped ([`escape`]).

use std::fmt::Write;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::forms::refused_post;
use crate::chat_state::ChatState;
use crate::error::ApiError;
use crate::i18n::{fill, words};
use crate::protocol::{Reaction, UserId, MAX_EMOJI_BYTES, QUICK_REACTIONS};

/// Edits a message of the signed-in user's (forms without JavaScript).
#[server(prefix = "/api", endpoint = "edit_message")]
pub async fn edit_message(id: i64, text: String) -> Result<(), ApiError> {
    change_by_form(id, crate::server::chat::changes::Change::Edit(&text)).await
}

/// Deletes a message of the signed-in user's, for everyone.
#[server(prefix = "/api", endpoint = "delete_message")]
pub async fn delete_message(id: i64) -> Result<(), ApiError> {
    change_by_form(id, crate::server::chat::changes::Change::Delete).await
}

/// The signed-in user's reaction `emoji` on a message, on or off.
#[server(prefix = "/api", endpoint = "react")]
pub async fn react(id: i64, emoji: String) -> Result<(), ApiError> {
    change_by_form(id, crate::server::chat::changes::Change::React(&emoji)).await
}

/// One change by the request's user: delivered by the store's commit, like
/// every change.
#[cfg(feature = "ssr")]
async fn change_by_form(id: i64, change: crate::server::chat::changes::Change<'_>) -> Result<(), ApiError> {
    use crate::error::ChatError;
    use crate::server::chat::identity::request_user;
    use crate::server::state::app_state;

    let state = app_state()?;
    let user = request_user(&state).await?.ok_or(ChatError::NotOnline)?;
    crate::server::chat::changes::change(&state, &user, id, change, None).await?;
    Ok(())
}

/// Why a change posted without JavaScript was refused, if the page came
/// back with one.
pub fn refused_change() -> Option<String> {
    [<EditMessage as ServerFn>::PATH, <DeleteMessage as ServerFn>::PATH, <React as ServerFn>::PATH]
        .into_iter()
        .find_map(refused_post)
}

/// A message's reactions and menu, as markup, for the reader `me`: the
/// emoji with their counts (pressing one adds mine, or takes it back),
/// and for someone signed in, a menu to react with one click or any
/// emoji and, on their own message, to edit or delete it.
pub fn message_tools(
    chat: ChatState,
    id: i64,
    author: UserId,
    reactions: &[Reaction],
    text: &str,
    threadable: bool,
) -> String {
    let me = chat.me.with(|me| me.as_ref().map(|me| me.id));
    let react = <React as ServerFn>::PATH;
    let mut html = String::new();
    let form = |html: &mut String, class: &str, action: &str, change: &str| {
        let _ = write!(
            html,
            r#"<form class="{class}" data-testid="{class}" method="post" action="{action}" data-change="{change}"><input type="hidden" name="id" value="{id}">"#
        );
    };
    if !reactions.is_empty() {
        form(&mut html, "reactions", react, "react");
        for Reaction { emoji, users, count } in reactions {
            let pressed = me.is_some_and(|me| users.contains(&me));
            let label = escape(&format!("{emoji} {count}: {}", chat.reacted_by(users, *count)));
            let _ = write!(
                html,
                r#"<button type="submit" name="emoji" value="{}" class="reaction" aria-pressed="{pressed}" title="{label}" aria-label="{label}">{} {}</button>"#,
                escape(emoji),
                escape(emoji),
                count
            );
        }
        html.push_str("</form>");
    }
    let Some(me) = me else { return html };
    let w = words();
    // Replying needs the browser's composer: the button shows once the
    // page is live (`html[data-live]`).
    // The words are the page's language's own: no markup in them.
    let _ = write!(
        html,
        r#"<details class="message-menu" data-testid="message-menu"><summary aria-label="{}" title="{}">⋯</summary><div class="menu"><button type="button" class="reply-start" data-reply="{id}">{}</button>"#,
        w.menu_label().inner(),
        w.menu_title().inner(),
        w.reply().inner()
    );
    if threadable {
        let _ = write!(
            html,
            r#"<button type="button" class="reply-start" data-thread="{id}">{}</button>"#,
            w.reply_in_thread().inner()
        );
    }
    form(&mut html, "quick-reactions", react, "react");
    for emoji in QUICK_REACTIONS {
        let _ = write!(
            html,
            r#"<button type="submit" name="emoji" value="{emoji}" aria-label="{}">{emoji}</button>"#,
            fill(w.react_with().inner(), &[("emoji", emoji)])
        );
    }
    html.push_str("</form>");
    form(&mut html, "other-reaction", react, "react");
    let _ = write!(
        html,
        r#"<input name="emoji" required maxlength="{MAX_EMOJI_BYTES}" aria-label="{}" placeholder="{}"><button type="submit">{}</button></form>"#,
        w.another_emoji().inner(),
        w.other_emoji().inner(),
        w.react().inner()
    );
    if me == author {
        form(&mut html, "edit-message", <EditMessage as ServerFn>::PATH, "edit");
        let _ = write!(
            html,
            r#"<textarea name="text" rows="3" aria-label="{}" data-testid="edit-text">{}</textarea><button type="submit">{}</button></form>"#,
            w.edit_message().inner(),
            escape(text),
            w.save_edit().inner()
        );
        let _ = write!(html, r#"<details class="delete-message"><summary>{}</summary>"#, w.delete_open().inner());
        form(&mut html, "delete-form", <DeleteMessage as ServerFn>::PATH, "delete");
        let _ = write!(
            html,
            r#"<button type="submit" class="danger">{}</button></form></details>"#,
            w.delete_for_everyone().inner()
        );
    }
    html.push_str("</div></details>");
    html
}

/// `text` as HTML text or an attribute's value: nothing in it can open a
/// tag, an entity or end the attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ChatSnapshot, User};

    #[test]
    fn markup_escapes_what_people_wrote() {
        assert_eq!(escape(r#"<b title="x">'&'</b>"#), "&lt;b title=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;");
        Owner::new_root(None).with(|| {
            let me = User { id: 7, name: "<i>me</i>".into() };
            let chat = ChatState::new(ChatSnapshot { me: Some(me), ..ChatSnapshot::default() });
            let reactions = [Reaction { emoji: "\"><script>".into(), users: vec![7, 8], count: 2 }];
            let html = message_tools(chat, 3, 7, &reactions, "</textarea><script>alert(1)</script>", true);
            assert!(!html.contains("<script>") && html.contains(">&lt;/textarea&gt;&lt;script&gt;"), "{html}");
            assert!(html.contains(r#"value="&quot;&gt;&lt;script&gt;""#), "{html}");
            assert!(html.contains(r#"aria-pressed="true""#) && html.contains("Save edit"), "{html}");
            // Someone else's message: reactions and the menu, no editing.
            let theirs = message_tools(chat, 3, 8, &[], "hi", false);
            assert!(theirs.contains("React with") && !theirs.contains("Save edit"), "{theirs}");
            assert!(html.contains("Reply in thread") && !theirs.contains("Reply in thread"), "a reply starts none");
        });
    }
}
