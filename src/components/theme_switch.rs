//! The theme switch in the header: light, dark, or the system's.
//!
//! With the WASM loaded, a press changes `<html data-theme>` and the cookie
//! at once; without it, the same form posts to [`set_theme`], which sets the
//! cookie and sends the reader back to the page (`crate::preferences`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::ApiError;
use crate::i18n::words;
use crate::preferences::Theme;

/// Keeps the theme in its cookie (the path for browsers without JavaScript).
#[server(prefix = "/api", endpoint = "theme")]
pub async fn set_theme(theme: String) -> Result<(), ApiError> {
    crate::preferences::keep(&Theme::parse(&theme).cookie())
}

/// Shows `theme` now, presses its button in `switch`, and keeps it for the
/// next page. The buttons are set here rather than through a signal: the
/// server renders them pressed from the cookie, and only this changes them.
#[cfg(feature = "hydrate")]
fn apply(theme: Theme, switch: Option<web_sys::EventTarget>) {
    use wasm_bindgen::JsCast;

    let page = document();
    if let Some(html) = page.document_element() {
        let _ = match theme.attribute() {
            Some(value) => html.set_attribute("data-theme", value),
            None => html.remove_attribute("data-theme"),
        };
    }
    if let Ok(page) = page.dyn_into::<web_sys::HtmlDocument>() {
        let _ = page.set_cookie(&theme.cookie());
    }
    let switch = switch.and_then(|target| target.dyn_into::<web_sys::Element>().ok());
    let mut button = switch.and_then(|switch| switch.first_element_child());
    while let Some(current) = button {
        let pressed = current.get_attribute("value").is_some_and(|value| value == theme.as_str());
        let _ = current.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
        button = current.next_element_sibling();
    }
}

#[cfg(not(feature = "hydrate"))]
fn apply(_theme: Theme, _switch: Option<leptos::web_sys::EventTarget>) {}

/// A theme's name, in the page's language.
fn label(theme: Theme) -> &'static str {
    let words = words();
    match theme {
        Theme::System => words.theme_system().inner(),
        Theme::Light => words.theme_light().inner(),
        Theme::Dark => words.theme_dark().inner(),
    }
}

#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let shown = Theme::current();
    let choose = move |ev: leptos::ev::SubmitEvent| {
        let Some(value) = ev.submitter().and_then(|button| button.get_attribute("value")) else { return };
        ev.prevent_default();
        apply(Theme::parse(&value), ev.current_target());
    };
    let path = <SetTheme as ServerFn>::PATH;
    view! {
        <form class="theme-switch" method="post" action=path role="group" aria-label=words().theme().inner()
            on:submit=choose>
            {Theme::ALL
                .map(|theme| {
                    view! {
                        <button type="submit" name="theme" value=theme.as_str()
                            aria-pressed=(shown == theme).to_string()>{label(theme)}</button>
                    }
                })}
        </form>
    }
}
