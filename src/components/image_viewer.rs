//! Images opened in the page: the full image over the conversation with
//! its name, the conversation's previous and next images by the arrow keys
//! or buttons, and Esc, the close button or a click beside the image to go
//! back. Focus moves into the viewer, stays there (Tab goes round its
//! controls), and returns to the image's link.
//! Without JavaScript, or with a modifier key, an image's link opens the
//! file itself.
//!
//! Signals of types the app has already (the id as `Option<String>`, the
//! conversation's messages): each new signal type costs the browser bundle
//! kilobytes of reactive machinery.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use crate::actions::ChatActions;
use crate::chat_state::ChatState;
use crate::i18n::{fill, words};
use crate::protocol::{Media, MediaKind, Message};

/// The id of the image on view, if any; provided by the conversation view,
/// so that each image's link can open it.
#[derive(Clone, Copy)]
pub struct ImageViewer {
    pub open: RwSignal<Option<String>>,
}

impl ImageViewer {
    /// Shows the image `id`, and puts focus in the viewer once it is there.
    pub fn show(&self, id: String) {
        self.open.set(Some(id));
        request_animation_frame(|| focus("[data-testid=image-viewer] .viewer-close"));
    }
}

fn focus(selector: &str) {
    let found = document().query_selector(selector).ok().flatten();
    if let Some(element) = found.and_then(|element| element.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}

/// The images among `rows`, in order.
fn images(rows: &[Message]) -> impl Iterator<Item = &Media> {
    rows.iter().filter_map(|row| row.media.as_ref()).filter(|media| media.kind == MediaKind::Image)
}

/// The viewer, over the conversation while an image is open; `rows` are
/// the conversation's messages, whose images the arrow keys go through.
#[component]
pub fn ImageViewerView(viewer: ImageViewer, rows: Memo<Vec<Message>>) -> impl IntoView {
    let open = viewer.open;
    // The open image, where it is among the conversation's images, and how
    // many there are. Read when the image changes, not on every new
    // message (that would rebuild the viewer and lose its focus).
    let shown = move || {
        let id = open.get()?;
        rows.with_untracked(|rows| {
            let at = images(rows).position(|media| media.id == id)?;
            Some((images(rows).nth(at)?.clone(), at, images(rows).count()))
        })
    };
    let step = move |forward: bool| {
        let Some(id) = open.get_untracked() else { return };
        let next = rows.with_untracked(|rows| {
            let at = images(rows).position(|media| media.id == id)?;
            let to = if forward { at.checked_add(1)? } else { at.checked_sub(1)? };
            images(rows).nth(to).map(|media| media.id.clone())
        });
        if let Some(next) = next {
            viewer.show(next);
        }
    };
    let close = move || {
        let Some(id) = open.get_untracked() else { return };
        open.set(None);
        // Back to the link that opened it.
        focus(&format!("[data-media=\"{id}\"]"));
    };
    let actions = crate::actions::use_actions();
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if open.with_untracked(Option::is_none) {
            return;
        }
        match ev.key().as_str() {
            // A dialog: the focus stays in it until it closes.
            "Tab" => return actions.keep_tab_within(&ev, "[data-testid=image-viewer]"),
            "Escape" => close(),
            "ArrowLeft" => step(false),
            "ArrowRight" => step(true),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());
    // Another conversation closes it.
    let chat = expect_context::<ChatState>();
    Effect::new(move |before: Option<()>| {
        chat.active.track();
        if before.is_some() {
            open.set(None);
        }
    });
    let beside = move |ev: leptos::ev::MouseEvent| {
        if ev.target() == ev.current_target() {
            close();
        }
    };
    move || {
        shown().map(|(media, at, count)| {
            let position = fill(words().image_position().inner(), &[("at", &(at + 1).to_string()), ("count", &count.to_string())]);
            view! {
                <div class="viewer" role="dialog" aria-modal="true" aria-label=media.name.clone()
                    data-testid="image-viewer" on:click=beside>
                    <figure>
                        <img src=media.url() alt=media.name.clone()/>
                        <figcaption>
                            <span class="viewer-name">{media.name.clone()}</span>
                            <span class="viewer-position" data-testid="viewer-position">{position}</span>
                            <a href=media.url() download=media.name.clone()>{words().download().inner()}</a>
                        </figcaption>
                    </figure>
                    <button type="button" class="viewer-prev" aria-label=words().previous_image().inner() disabled=at == 0
                        on:click=move |_| step(false)>"‹"</button>
                    <button type="button" class="viewer-next" aria-label=words().next_image().inner() disabled=at + 1 >= count
                        on:click=move |_| step(true)>"›"</button>
                    <button type="button" class="viewer-close" aria-label=words().close().inner() on:click=move |_| close()>"×"</button>
                </div>
            }
            .into_any()
        })
    }
}
