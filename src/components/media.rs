//! A file inside a message: an image preview that opens the full image, a
//! native audio or video player (seeking works: the server answers Range
//! requests), or a download card. Rendered on the server too, so previews
//! show without JavaScript.

use leptos::prelude::*;

use super::icons;
use super::image_viewer::ImageViewer;
use crate::i18n::shown_file_name;
use crate::protocol::{human_size, preview_size, Media, MediaKind};

#[component]
pub fn MediaView(media: Media) -> impl IntoView {
    let url = media.url();
    let name = media.name.clone();
    match media.kind {
        MediaKind::Image => {
            let (width, height) = preview_size(media.width, media.height);
            let title = name.clone();
            let label = name.clone();
            let id = media.id.clone();
            // In the page's viewer when there is one (and no modifier key
            // asks for a new tab); else the link opens the file.
            let viewer = use_context::<ImageViewer>();
            let opened = media.id.clone();
            let view_here = move |ev: leptos::ev::MouseEvent| {
                let plain = ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key());
                if let (Some(viewer), true) = (viewer, plain) {
                    ev.prevent_default();
                    viewer.show(opened.clone());
                }
            };
            view! {
                <figure class="media image">
                    <a href=url target="_blank" rel="noopener" data-testid="media-image" title=title data-media=id
                        on:click=view_here>
                        <img src=media.thumbnail_url() alt=name width=width height=height loading="lazy"/>
                    </a>
                    // The image's own name (its link reads it already).
                    <figcaption aria-hidden="true">{label}</figcaption>
                </figure>
            }
            .into_any()
        }
        MediaKind::Audio => {
            let label = shown_file_name(name);
            view! {
                <figure class="media audio">
                    <audio controls preload="metadata" src=url data-testid="media-audio"></audio>
                    <figcaption>{label}</figcaption>
                </figure>
            }
            .into_any()
        }
        MediaKind::Video => view! {
            <figure class="media video">
                <video controls playsinline preload="metadata" src=url data-testid="media-video"></video>
                <figcaption>{name}</figcaption>
            </figure>
        }
        .into_any(),
        MediaKind::File => {
            let details = format!("{} · {}", human_size(media.size), media.mime);
            let download = name.clone();
            view! {
                <a class="media file" href=url download=download data-testid="media-file">
                    <span class="file-icon">{icons::file()}</span>
                    <span class="file-name">{name}</span>
                    <span class="file-details">{details}</span>
                </a>
            }
            .into_any()
        }
    }
}
