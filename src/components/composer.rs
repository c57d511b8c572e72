//! Writing a message: Enter sends, Shift+Enter starts a new line, `@`
//! offers people to mention (`mention_menu`). Empty or too-long text is
//! caught here with a clear message.
//!
//! With the WASM loaded, a sent message joins the outbox (see
//! `ChatState::outbox`), shows as pending, and goes over the socket whenever
//! the connection allows (`crate::actions`); nothing typed offline is lost. Without JavaScript the
//! same form posts to [`send_message`], which stores and delivers the message
//! and redirects back to the page.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::attachments::{AttachButton, UploadTray, VoiceRecorder};
use super::mention_menu::{MentionList, MentionMenu, MENU_ID};
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::{ChatState, Conversation};
use crate::error::ApiError;
use crate::i18n::{fill, input_refusal, words};
use crate::protocol::{validate_text, LOBBY, MAX_TEXT_CHARS};

/// Posts `text` as the signed-in user (the path for browsers without
/// JavaScript): privately to the user `to`, or else to `room` (default the
/// lobby); the `@name`s in it call those people. `cid`, rendered into the form by the server, makes a double
/// submit store once.
#[server(prefix = "/api", endpoint = "send_message")]
pub async fn send_message(
    text: String,
    cid: Option<String>,
    room: Option<String>,
    to: Option<String>,
) -> Result<(), ApiError> {
    use crate::error::ChatError;
    use crate::protocol::{UserId, LOBBY};
    use crate::server::chat::identity::request_user;
    use crate::server::chat::mentions::named_by_hand;
    use crate::server::chat::post::{post, Post, Recipient};
    use crate::server::state::app_state;

    let state = app_state()?;
    let user = request_user(&state).await?.ok_or(ChatError::NotOnline)?;
    let cid = cid.filter(|c| !c.is_empty());
    // An empty field (a room on screen) means no recipient.
    let to = to.filter(|to| !to.is_empty()).map(|to| to.parse::<UserId>()).transpose();
    let to = to.map_err(|_| ChatError::InvalidPayload("`to` is not a user id".into()))?;
    let room = room.filter(|r| !r.is_empty()).unwrap_or_else(|| LOBBY.to_owned());
    // `@name` typed here names people too, as the browser's composer does.
    let named = named_by_hand(&state, user.id, &room, to, &text).await?;
    let to = match to {
        Some(person) => Recipient::Person(person),
        None => Recipient::Room(room),
    };
    // Delivered by the store's commit, like every message.
    post(
        &state,
        &user,
        Post {
            to,
            text: &text,
            cid: cid.as_deref(),
            media: None,
            reply_to: None,
            thread: None,
            mentions: &named,
            everyone: None,
        },
        None,
    )
    .await?;
    Ok(())
}

/// A fresh client id for the form, made on the server only: a browser without
/// JavaScript cannot make one, and a hydrated page sends over the socket.
fn form_cid() -> String {
    #[cfg(feature = "ssr")]
    {
        use rand::RngCore;
        let mut bytes = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        format!("form-{}", hex::encode(bytes))
    }
    #[cfg(not(feature = "ssr"))]
    String::new()
}

#[component]
pub fn Composer() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    let text = chat.draft;
    let error = RwSignal::new(None::<String>);
    let menu = MentionMenu::new(chat, text, "#composer");

    // The message goes into the outbox and shows as pending at once; the
    // outbox sends it whenever the connection allows.
    let submit = move || {
        let draft = text.get_untracked();
        if let Err(problem) = validate_text(&draft) {
            error.set(Some(input_refusal(&problem)));
            return;
        }
        error.set(None);
        menu.close();
        // A file still on its way takes the text as its caption.
        if chat.caption_upload(draft.trim()) {
            text.set(String::new());
            return;
        }
        if !actions.send_text(draft.trim().to_owned()) {
            error.set(Some(words().outbox_full().inner().to_owned()));
            return;
        }
        chat.forget_picks();
        text.set(String::new());
    };
    let placeholder = move || match chat.active.get() {
        Conversation::Room(room) => {
            fill(words().composer_room_placeholder().inner(), &[("room", &chat.room_title(&room))])
        }
        Conversation::Direct(peer) => {
            fill(words().composer_private_placeholder().inner(), &[("name", &chat.display_name(&peer))])
        }
    };
    // Where a form post (without JavaScript) goes: the room on screen, or
    // privately to the person on screen.
    let form_room = move || match chat.active.get() {
        Conversation::Room(room) => room,
        Conversation::Direct(_) => String::new(),
    };
    let form_to = move || match chat.active.get() {
        Conversation::Direct(peer) => peer.id.to_string(),
        Conversation::Room(_) => String::new(),
    };
    let remaining = move || MAX_TEXT_CHARS as i64 - text.with(|t| t.chars().count()) as i64;
    let near_limit = move || remaining() < 200;
    let over_limit = move || remaining() < 0;
    let send_path = <SendMessage as ServerFn>::PATH;
    let refused = super::forms::refused_post(send_path);
    let shown_error = move || error.get().or_else(|| refused.clone());
    // An image pasted into the text box is sent as a file.
    let pasted = move |ev: leptos::ev::ClipboardEvent| actions.send_pasted(&ev);
    let replying = chat.replying;
    let reply_bar = move || {
        replying.get().map(|quote| {
            view! {
                <div class="replying" data-testid="replying">
                    <span>{words().replying_to().inner()} <b>{chat.display_name(&quote.from)}</b> ": " {quote.text}</span>
                    <button type="button" aria-label=words().cancel_reply().inner() on:click=move |_| {
                        replying.set(None);
                        actions.return_to_composer();
                    }>"×"</button>
                </div>
            }
        })
    };
    view! {
        <UploadTray/>
        {reply_bar}
        <form class="composer" method="post" action=send_path on:submit=move |ev| {
            ev.prevent_default();
            submit();
        }>
            <input type="hidden" name="cid" value=form_cid()/>
            <input type="hidden" name="room" value=form_room/>
            <input type="hidden" name="to" value=form_to/>
            <textarea
                id="composer"
                name="text"
                rows="1"
                data-testid="composer"
                aria-label=words().composer_label().inner()
                placeholder=placeholder
                aria-autocomplete="list"
                aria-controls=MENU_ID
                aria-activedescendant=move || menu.chosen_id()
                on:paste=pasted
                prop:value=move || text.get()
                on:click=move |ev| menu.typed(actions.caret(&ev))
                // The caret moved by keyboard: the menu follows it.
                on:keyup=move |ev: leptos::ev::KeyboardEvent| {
                    if matches!(ev.key().as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                        menu.typed(actions.caret(&ev));
                    }
                }
                on:blur=move |_| menu.close()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    menu.typed(actions.caret(&ev));
                    if text.with_untracked(|text| !text.trim().is_empty()) {
                        actions.typing();
                    }
                    if error.with_untracked(Option::is_some) {
                        error.set(None);
                    }
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if menu.key(&ev) {
                        return;
                    }
                    if ev.key() == "Escape" && replying.with_untracked(Option::is_some) {
                        replying.set(None);
                    }
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <MentionList menu/>
            <AttachButton/>
            <VoiceRecorder/>
            <button type="submit">{words().send().inner()}</button>
            <Show when=near_limit>
                <span class="remaining" class:over=over_limit>{remaining}</span>
            </Show>
            <p class="form-error" role="alert" data-testid="composer-error">{shown_error}</p>
        </form>
    }
    .into_any()
}

/// The composer, or, in a room I have not joined, a button to join it.
#[component]
pub fn RoomGate() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let unjoined = move || match chat.active.get() {
        Conversation::Room(room) if room != LOBBY => (!chat.joined(&room)).then_some(room),
        _ => None,
    };
    let error = RwSignal::new(None::<String>);
    let actions = use_actions();
    let join = move |_| {
        let Some(room) = unjoined() else { return };
        leptos::task::spawn_local(async move {
            error.set(actions.join_room(room).await.err().map(|problem| problem.message));
        });
    };
    view! {
        <Show when=move || unjoined().is_none() fallback=move || view! {
            <div class="join-room">
                <button type="button" on:click=join>
                    {move || fill(words().join_room().inner(), &[("room", &chat.room_title(&unjoined().unwrap_or_default()))])}
                </button>
                <span class="hint">{words().join_room_hint().inner()}</span>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </div>
        }>
            <Composer/>
        </Show>
    }
}
