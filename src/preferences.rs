//! A reader's display preferences, kept in a cookie so the server renders
//! the first paint the way the reader chose (no flash of the wrong theme):
//! the theme, light, dark or the system's.
//!
//! The server reads the cookie into `<html data-theme>` (`app::shell`), the
//! stylesheet picks its colours by it (`style/main.css`), and the switch in
//! the header (`components::theme_switch`) changes both at once in the
//! browser, or posts a plain form without JavaScript.

/// The cookie holding the theme; readable by the page (it holds no secret).
pub const THEME_COOKIE: &str = "rtca_theme";

/// How long a reader's choice (theme, language) is kept: a year.
pub const PREFERENCE_MAX_AGE: u64 = 365 * 24 * 60 * 60;

/// The value of the cookie `name` in a `Cookie` header's value.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

/// Keeps a preference: adds `cookie` (a `Set-Cookie` value) to the
/// response of the server function being handled.
#[cfg(feature = "ssr")]
pub fn keep(cookie: &str) -> Result<(), crate::error::ApiError> {
    use crate::error::{code, ApiError};
    let failed = || ApiError::new(code::INTERNAL, "could not keep the choice");
    let cookie = axum::http::HeaderValue::from_str(cookie).map_err(|_| failed())?;
    let response = leptos::prelude::use_context::<leptos_axum::ResponseOptions>().ok_or_else(failed)?;
    response.append_header(axum::http::header::SET_COOKIE, cookie);
    Ok(())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Whatever `prefers-color-scheme` says.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// In the order the switch shows them.
    pub const ALL: [Theme; 3] = [Theme::Light, Theme::Dark, Theme::System];

    /// The cookie's value; anything unknown is the system's theme.
    pub fn parse(value: &str) -> Theme {
        match value.trim() {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// What `<html data-theme>` says: nothing for the system's theme.
    pub fn attribute(self) -> Option<&'static str> {
        (self != Theme::System).then(|| self.as_str())
    }

    /// The theme a `Cookie` header's value names.
    pub fn from_cookie_header(header: &str) -> Theme {
        cookie_value(header, THEME_COOKIE).map_or(Theme::System, Theme::parse)
    }

    /// The theme the page is shown in: from the request's cookie on the
    /// server, from `<html data-theme>` (which the server wrote) in the
    /// browser, so both render the switch alike.
    pub fn current() -> Theme {
        #[cfg(feature = "ssr")]
        {
            leptos::prelude::use_context::<axum::http::request::Parts>()
                .and_then(|parts| {
                    parts.headers.get(axum::http::header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_owned)
                })
                .map_or(Theme::System, |header| Theme::from_cookie_header(&header))
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            leptos::prelude::document()
                .document_element()
                .and_then(|html| html.get_attribute("data-theme"))
                .map_or(Theme::System, |value| Theme::parse(&value))
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            Theme::System
        }
    }

    /// The `Set-Cookie` value that keeps this choice (the system's theme
    /// forgets the cookie).
    pub fn cookie(self) -> String {
        let max_age = if self == Theme::System { 0 } else { PREFERENCE_MAX_AGE };
        format!("{THEME_COOKIE}={}; Path=/; SameSite=Lax; Max-Age={max_age}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_theme_is_read_from_its_cookie_and_anything_else_is_the_systems() {
        assert_eq!(Theme::from_cookie_header("a=1; rtca_theme=dark; b=2"), Theme::Dark);
        assert_eq!(Theme::from_cookie_header("rtca_theme=light"), Theme::Light);
        assert_eq!(Theme::from_cookie_header("rtca_theme=\"><script>"), Theme::System);
        assert_eq!(Theme::from_cookie_header("my_rtca_theme=dark"), Theme::System);
        assert_eq!(Theme::from_cookie_header(""), Theme::System);
        for theme in Theme::ALL {
            assert_eq!(Theme::parse(theme.as_str()), theme);
            assert_eq!(Theme::from_cookie_header(&theme.cookie()), theme);
        }
        assert_eq!(Theme::System.attribute(), None);
        assert_eq!(Theme::Dark.attribute(), Some("dark"));
    }
}
