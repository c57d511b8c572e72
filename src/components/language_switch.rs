//! The language switch in the header: English or 简体中文, each named in
//! itself. A plain form, with or without JavaScript: [`set_language`] keeps
//! the choice in a cookie and sends the reader back to the page, which the
//! server renders in the new language (`crate::i18n`: a page's words are
//! fixed for its life, which keeps them out of the reactive graph).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::ApiError;
use crate::i18n::{current, tag, words, LANGUAGES};

/// Keeps the language in its cookie; anything unknown is English.
#[server(prefix = "/api", endpoint = "language")]
pub async fn set_language(lang: String) -> Result<(), ApiError> {
    use crate::i18n::{from_tag, lang_cookie};
    crate::preferences::keep(&lang_cookie(from_tag(&lang).unwrap_or_default()))
}

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let shown = current();
    let path = <SetLanguage as ServerFn>::PATH;
    view! {
        <form class="language-switch" method="post" action=path role="group" aria-label=words().language().inner()>
            {LANGUAGES
                .map(|(locale, name)| {
                    view! {
                        <button type="submit" name="lang" value=tag(locale) lang=tag(locale)
                            aria-pressed=(shown == locale).to_string()>{name}</button>
                    }
                })}
        </form>
    }
}
