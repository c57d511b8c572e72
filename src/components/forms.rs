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
    use_context::<RefusedForm>().filter(|refused| refused.path == path).map(|refused| refused.error.message)
}

/// Percent-decoding. Room names are plain ASCII, so an encoded one is a
/// name that does not exist; decoding it still shows the reader the name
/// they typed in the notice.
pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
