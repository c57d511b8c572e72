//! The interface's languages: English (`en`, the default) and Simplified
//! Chinese (`zh-CN`).
//!
//! The words live in `locales/*.json`, compiled into constants by
//! `build.rs` (leptos_i18n_build), which also fails the build when one
//! language lacks a key the other has. Every use is checked by the
//! compiler: `words().join_button()` is a method of the generated keys.
//!
//! A page is in one language from its first byte to its last: the server
//! picks it (the reader's choice in the `rtca_lang` cookie, else their
//! browser's `Accept-Language`), writes it into `<html lang>`, and the
//! browser reads it back from there, so both render the same words. The
//! switcher (`components::language_switch`) sets the cookie and reloads
//! the page, with or without JavaScript. The words are not signals: a
//! signal per string would cost the WASM bundle a closure each, and a
//! language is changed far less often than it is read.

/// What `build.rs` generated. Its `expect`s parse the two fixed language
/// tags ("en", "zh-CN") into ICU locales, never input; its context and
/// providers go unused (the app picks the locale itself).
#[allow(clippy::expect_used, clippy::unwrap_used, unused_imports, dead_code)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}

pub use generated::i18n::{I18nKeys, Locale};

use crate::error::code;
use crate::preferences::{cookie_value, PREFERENCE_MAX_AGE};

/// The cookie holding the reader's language.
pub const LANG_COOKIE: &str = "rtca_lang";

/// Every language, in the order the switcher offers them, each named in itself.
pub const LANGUAGES: [(Locale, &str); 2] = [(Locale::en, "English"), (Locale::zh_CN, "简体中文")];

/// The words of the page's language.
pub fn words() -> I18nKeys {
    current().get_keys_const()
}

/// `template` with each `{name}` replaced by its value, in one pass: a
/// value that itself holds `{…}` (a name, a file name) stays as it is.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

/// How a voice message recorded here is named (`voice-message.webm`, by
/// `client::voice`): the name [`shown_file_name`] shows in words.
pub const VOICE_TAKE_NAME: &str = "voice-message";

/// A file's name as the reader sees it: a voice message recorded here is
/// "Voice message" in the reader's language; any other name is the file's
/// own.
pub fn shown_file_name(name: String) -> String {
    if name.strip_prefix(VOICE_TAKE_NAME).is_some_and(|rest| rest.starts_with('.')) {
        words().voice_message().inner().to_owned()
    } else {
        name
    }
}

/// The `lang` attribute's value for `locale`.
pub fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "en",
        Locale::zh_CN => "zh-CN",
    }
}

/// A language tag read loosely: any Chinese (`zh`, `zh-CN`, `zh-Hans`,
/// `zh-TW`…) is the Chinese we have, any English is English.
pub fn from_tag(tag: &str) -> Option<Locale> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    match primary.as_str() {
        "zh" => Some(Locale::zh_CN),
        "en" => Some(Locale::en),
        _ => None,
    }
}

/// The reader's first language we have, from an `Accept-Language` value
/// (`zh-CN,zh;q=0.9,en;q=0.8`): the highest weight wins, ties in order.
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut best: Option<(f32, Locale)> = None;
    for item in header.split(',').take(32) {
        let mut parts = item.split(';');
        let Some(locale) = parts.next().and_then(from_tag) else { continue };
        let weight = parts
            .find_map(|part| part.trim().strip_prefix("q="))
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        if weight > 0.0 && best.is_none_or(|(top, _)| weight > top) {
            best = Some((weight, locale));
        }
    }
    best.map(|(_, locale)| locale)
}

/// The language of a request: its `rtca_lang` cookie, else its
/// `Accept-Language`, else English.
pub fn from_headers(cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
    let chosen = cookie.and_then(|header| cookie_value(header, LANG_COOKIE)).and_then(from_tag);
    chosen.or_else(|| accept_language.and_then(from_accept_language)).unwrap_or_default()
}

/// The `Set-Cookie` value that keeps `locale` as the reader's choice.
pub fn lang_cookie(locale: Locale) -> String {
    format!("{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age={PREFERENCE_MAX_AGE}", tag(locale))
}

/// What to show a reader for a refusal with `code`: in English, the
/// server's own message (it may say more, a limit say); in another
/// language, that language's words for the code, or the server's message
/// for a code it has none for.
pub fn error_message(code: &str, message: &str) -> String {
    error_message_in(current(), code, message)
}

/// What the browser's own check of an input says, in the page's language.
pub fn input_refusal(problem: &crate::error::InvalidInput) -> String {
    error_message(problem.code(), &problem.to_string())
}

/// The same, in `locale` (a page rendered outside the app, such as /search).
pub fn error_message_in(locale: Locale, code: &str, message: &str) -> String {
    if locale == Locale::en {
        return message.to_owned();
    }
    let words = locale.get_keys_const();
    let said = match code {
        "not_online" => words.error_not_online(),
        "invalid_payload" => words.error_invalid_payload(),
        "name_taken" => words.error_name_taken(),
        "no_such_user" => words.error_no_such_user(),
        "no_such_room" => words.error_no_such_room(),
        "invalid_session" => words.error_invalid_session(),
        "name_registered" => words.error_name_registered(),
        "bad_credentials" => words.error_bad_credentials(),
        "weak_password" => words.error_weak_password(),
        "guests_disabled" => words.error_guests_disabled(),
        "member_rename" => words.error_member_rename(),
        "room_exists" => words.error_room_exists(),
        "not_a_member" => words.error_not_a_member(),
        "too_many_rooms" => words.error_too_many_rooms(),
        code::RATE_LIMITED => words.error_rate_limited(),
        "too_many_connections" => words.error_too_many_connections(),
        "no_such_media" => words.error_no_such_media(),
        "file_too_large" => words.error_file_too_large(),
        "unsupported_file" => words.error_unsupported_file(),
        "unreadable_image" => words.error_unreadable_image(),
        "too_many_uploads" => words.error_too_many_uploads(),
        "request_timeout" => words.error_request_timeout(),
        "no_such_message" => words.error_no_such_message(),
        "not_your_message" => words.error_not_your_message(),
        "message_deleted" => words.error_message_deleted(),
        "too_many_reactions" => words.error_too_many_reactions(),
        "cannot_call_everyone" => words.error_cannot_call_everyone(),
        "push_off" => words.error_push_off(),
        "push_endpoint_refused" => words.error_push_endpoint_refused(),
        code::UNAVAILABLE => words.error_unavailable(),
        code::INTERNAL => words.error_internal(),
        "empty_text" => words.error_empty_text(),
        "text_too_long" => words.error_text_too_long(),
        "invalid_name" => words.error_invalid_name(),
        "invalid_room_name" => words.error_invalid_room_name(),
        "invalid_room_title" => words.error_invalid_room_title(),
        code::DISCONNECTED => words.error_disconnected(),
        code::TIMEOUT => words.error_timeout(),
        "unknown_event" => words.error_unknown_event(),
        code::BUSY => words.error_busy(),
        code::REQUEST_FAILED => words.error_request_failed(),
        code::RELOAD => words.error_reload(),
        code::BAD_REPLY => words.error_bad_reply(),
        "already_online" => words.error_already_online(),
        _ => return message.to_owned(),
    };
    said.inner().to_owned()
}

/// The language this page is in: from the request on the server, from
/// `<html lang>` (which the server wrote) in the browser.
pub fn current() -> Locale {
    // The chat pages' handler provides it, read once per request
    // (`server::http::pages`); other pages (not found) read the request.
    #[cfg(feature = "ssr")]
    {
        use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
        use leptos::prelude::use_context;
        use_context::<Locale>().unwrap_or_else(|| {
            use_context::<axum::http::request::Parts>().map_or_else(Locale::default, |parts| {
                let header = |name| parts.headers.get(name).and_then(|value| value.to_str().ok());
                from_headers(header(COOKIE), header(ACCEPT_LANGUAGE))
            })
        })
    }
    // Read from the page once: it never changes under a rendered page.
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        thread_local! {
            static PAGE_LOCALE: Locale = leptos::prelude::document()
                .document_element()
                .and_then(|html| html.get_attribute("lang"))
                .and_then(|lang| from_tag(&lang))
                .unwrap_or_default();
        }
        PAGE_LOCALE.with(|locale| *locale)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_language_comes_from_the_cookie_then_accept_language() {
        assert_eq!(from_headers(None, Some("zh-CN,zh;q=0.9,en;q=0.8")), Locale::zh_CN);
        assert_eq!(from_headers(None, Some("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.7")), Locale::zh_CN);
        assert_eq!(from_headers(None, Some("en-GB,zh;q=0.5")), Locale::en);
        assert_eq!(from_headers(None, Some("en;q=0.2, zh-Hans;q=0.9")), Locale::zh_CN);
        assert_eq!(from_headers(None, Some("zh;q=0, en")), Locale::en);
        assert_eq!(from_headers(None, Some("de, fr")), Locale::en);
        assert_eq!(from_headers(None, None), Locale::en);
        assert_eq!(from_headers(Some("a=1; rtca_lang=zh-CN"), Some("en")), Locale::zh_CN);
        assert_eq!(from_headers(Some("rtca_lang=en"), Some("zh-CN")), Locale::en);
        assert_eq!(from_headers(Some("rtca_lang=<script>"), Some("zh")), Locale::zh_CN);
        for (locale, _) in LANGUAGES {
            assert_eq!(from_headers(Some(&lang_cookie(locale)), None), locale);
        }
    }

    /// Both languages have every key, and the same placeholders in each
    /// (`build.rs` refuses to build otherwise; this says which).
    #[test]
    fn every_key_is_in_both_languages_with_the_same_placeholders() {
        let parse = |text: &str| -> std::collections::BTreeMap<String, String> {
            serde_json::from_str(text).unwrap_or_default()
        };
        let english = parse(include_str!("../locales/en.json"));
        let chinese = parse(include_str!("../locales/zh-CN.json"));
        assert!(english.len() > 50, "locales/en.json did not parse");
        let keys = |map: &std::collections::BTreeMap<String, String>| map.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&english), keys(&chinese));
        let placeholders = |text: &str| {
            let mut found: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}'))
                .map(|(name, _)| name.to_owned())
                .collect();
            found.sort();
            found
        };
        for (key, text) in &english {
            assert_eq!(placeholders(text), placeholders(&chinese[key]), "placeholders of {key}");
            assert!(!chinese[key].trim().is_empty(), "{key} is empty in Chinese");
        }
    }

    #[test]
    fn every_refusal_has_its_chinese_words_and_english_keeps_the_servers() {
        use crate::error::{ChatError, InvalidInput};
        use strum::VariantNames;
        let codes = ChatError::VARIANTS.iter().chain(InvalidInput::VARIANTS).filter(|code| **code != "invalid");
        for code in codes {
            assert_ne!(error_message_in(Locale::zh_CN, code, "the server's"), "the server's", "{code}");
            assert_eq!(error_message_in(Locale::en, code, "the server's"), "the server's");
        }
        assert_eq!(error_message_in(Locale::zh_CN, "something_new", "as sent"), "as sent");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("Message #{room}", &[("room", "design")]), "Message #design");
        assert_eq!(fill("{a} and {b}", &[("a", "Ann"), ("b", "Bo")]), "Ann and Bo");
        assert_eq!(
            fill("{one} and {two}", &[("one", "{two}"), ("two", "Bo")]),
            "{two} and Bo",
            "values are not read again"
        );
        assert_eq!(fill("{unknown} {x", &[("x", "y")]), "{unknown} {x");
    }
}
