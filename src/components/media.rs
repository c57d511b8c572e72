//! A file inside a message: an image preview that opens the full image, a
//! native audio or video player (seeking works: the server answers Range
//! requests), or a download card. Rendered on the server too, so previews
//! show without JavaScript.

use leptos::prelude::*;

use crate::protocol::{human_size, thumbnail_size, Media, MediaKind};

#[component]
pub fn MediaView(media: Media) -> impl IntoView {
    let url = media.url();
    let name = media.name.clone();
    match media.kind {
        MediaKind::Image => {
            let (width, height) = thumbnail_size(media.width, media.height);
            let title = name.clone();
            view! {
                <a class="media image" href=url target="_blank" rel="noopener" data-testid="media-image"
                    title=title>
                    <img src=media.thumbnail_url() alt=name width=width height=height loading="lazy"/>
                </a>
            }
            .into_any()
        }
        MediaKind::Audio => {
            let label = if name.starts_with("voice-message") { "Voice message".to_owned() } else { name };
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
                    <span class="file-icon" aria-hidden="true">"📄"</span>
                    <span class="file-name">{name}</span>
                    <span class="file-details">{details}</span>
                </a>
            }
            .into_any()
        }
    }
}
