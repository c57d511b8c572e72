//! Adding files to the conversation: the attach button, the voice
//! recorder and the tray of uploads in progress (a progress bar and Cancel
//! each, or the reason one failed). Dropping files on the conversation and
//! pasting an image into the composer go the same way (see
//! `chat_page` and `composer`); the upload itself is the browser's
//! (`crate::actions`).

use leptos::prelude::*;

use super::icons;
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::{ChatState, Upload};
use crate::i18n::{fill, shown_file_name, words};
use crate::protocol::human_size;

/// Picks files to send.
#[component]
pub fn AttachButton() -> impl IntoView {
    let actions = use_actions();
    let picked = move |ev: leptos::ev::Event| actions.send_picked(&ev);
    view! {
        <label class="attach" title=words().attach_title().inner()>
            <input type="file" multiple class="visually-hidden" data-testid="attach" aria-label=words().attach_label().inner()
                accept="image/*,audio/*,video/*,application/pdf" on:change=picked/>
            {icons::paper_clip()}
        </label>
    }
}

/// What the voice recorder is doing. (Only the browser moves past `Idle`.)
#[derive(Clone, Debug, PartialEq)]
enum Voice {
    Idle,
    Starting,
    Recording,
    /// A take to listen to before sending, at this URL.
    Preview(String),
    Problem(String),
}

/// Record, listen, then send or discard a voice message.
#[component]
pub fn VoiceRecorder() -> impl IntoView {
    let actions = use_actions();
    let stage = RwSignal::new(Voice::Idle);
    // Leaving the page part (signing out, say) lets go of the microphone.
    on_cleanup(move || actions.discard_recording());
    let record = move |_| {
        stage.set(Voice::Starting);
        leptos::task::spawn_local(async move {
            stage.set(match actions.record().await {
                Ok(()) => Voice::Recording,
                Err(problem) => Voice::Problem(problem),
            });
            // Each stage replaces the button that had the focus.
            actions.focus_soon(".voice button");
        });
    };
    let stop = move |_| {
        leptos::task::spawn_local(async move {
            stage.set(match actions.stop_recording().await {
                Ok(url) => Voice::Preview(url),
                Err(problem) => Voice::Problem(problem),
            });
            actions.focus_soon(".voice button");
        });
    };
    let send = move |_| {
        actions.send_recording();
        stage.set(Voice::Idle);
        actions.return_to_composer();
    };
    let discard = move |_| {
        actions.discard_recording();
        stage.set(Voice::Idle);
        actions.return_to_composer();
    };
    view! {
        <div class="voice" data-testid="voice">
            {move || match stage.get() {
                Voice::Idle | Voice::Problem(_) => view! {
                    <button type="button" class="record" on:click=record title=words().record().inner()
                        aria-label=words().record().inner()>{icons::microphone()}</button>
                }.into_any(),
                Voice::Starting => view! { <span class="voice-status">{words().starting_microphone().inner()}</span> }.into_any(),
                Voice::Recording => view! {
                    <span class="voice-status recording" role="status">{words().recording().inner()}</span>
                    <button type="button" on:click=stop>{words().stop().inner()}</button>
                }.into_any(),
                Voice::Preview(url) => view! {
                    <audio controls src=url data-testid="voice-preview"></audio>
                    <button type="button" on:click=send>{words().send_voice().inner()}</button>
                    <button type="button" on:click=discard>{words().discard().inner()}</button>
                }.into_any(),
            }}
            {move || match stage.get() {
                Voice::Problem(problem) => Some(view! { <p class="form-error" role="alert">{problem}</p> }),
                _ => None,
            }}
        </div>
    }
}

/// The uploads in progress, or failed, oldest first.
#[component]
pub fn UploadTray() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    view! {
        <Show when=move || chat.uploads.with(|tray| !tray.is_empty())>
            <ul class="upload-tray" data-testid="uploads">
                <For each=move || chat.uploads.get() key=|upload| (upload.key, upload.problem.clone()) let:upload>
                    <UploadRow upload/>
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn UploadRow(upload: Upload) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let key = upload.key;
    let percent = move || chat.uploads.with(|tray| tray.iter().find(|u| u.key == key).map_or(0, Upload::percent));
    // Given while it uploads, too.
    let caption = move || {
        chat.uploads.with(|tray| tray.iter().find(|u| u.key == key).map(|u| u.caption.clone()).unwrap_or_default())
    };
    let actions = use_actions();
    let cancel = move |_| {
        actions.cancel_upload(key);
        actions.return_to_composer();
    };
    let size = human_size(upload.size);
    let name = shown_file_name(upload.name.clone());
    match upload.problem {
        Some(problem) => view! {
            <li class="upload failed" data-testid="upload">
                <p class="form-error" role="alert">{problem}</p>
                <button type="button" on:click=move |_| {
                    chat.remove_upload(key);
                    actions.return_to_composer();
                }>{words().dismiss().inner()}</button>
            </li>
        }
        .into_any(),
        None => view! {
            <li class="upload" data-testid="upload">
                <span class="upload-name">{name.clone()}</span>
                <span class="upload-caption" data-testid="upload-caption" hidden=move || caption().is_empty()>
                    {caption}
                </span>
                <span class="upload-size">{size}</span>
                <progress max="100" value=move || percent().to_string()
                    aria-label=fill(words().uploading().inner(), &[("name", &name)])></progress>
                <span class="upload-percent">{move || format!("{}%", percent())}</span>
                <button type="button" on:click=cancel>{words().cancel().inner()}</button>
            </li>
        }
        .into_any(),
    }
}
