//! Plain HTML forms that post to server functions (joining, signing in,
//! sending without JavaScript), and the refusal a post comes back with.
//!
//! A refused form post comes back to the page it was sent from. The server
//! checks that it refused it (`server::http::refusals`: an address alone
//! could carry any words) and puts it in the page's snapshot; the forms
//! read it from there. Not through leptos' `ServerAction`: with the
//! server-function client, it cost 21 KB of the gzipped WASM
//! (docs/performance.md, finding 23).

use leptos::prelude::*;

use crate::protocol::RefusedForm;

/// Makes the refusal the page's snapshot carries known to the forms.
pub fn provide_refused_post(refused: Option<RefusedForm>) {
    if let Some(refused) = refused {
        provide_context(refused);
    }
}

/// The message of a refused post to the server function at `path`, if the
/// page came back with one.
pub fn refused_post(path: &str) -> Option<String> {
    use_context::<RefusedForm>()
        .filter(|refused| refused.path == path)
        .map(|refused| crate::i18n::error_message(&refused.error.code, &refused.error.message))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn a_refused_post_comes_back_to_its_own_form() {
        let error = ApiError::new("bad_credentials", "wrong name or password");
        Owner::new_root(None).with(|| {
            provide_refused_post(Some(RefusedForm { path: "/api/login".to_owned(), error }));
            assert_eq!(refused_post("/api/login").as_deref(), Some("wrong name or password"));
            assert_eq!(refused_post("/api/join"), None, "another form's error");
        });
    }
}
