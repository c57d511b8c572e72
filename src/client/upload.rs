//! Sending a file: with XMLHttpRequest, because fetch reports no upload
//! progress. Progress and failures go into the chat's upload tray; a file
//! the server has stored becomes an outbox message carrying it, sent (and
//! resent) like any other message.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, Event, ProgressEvent, XmlHttpRequest};

use crate::chat_state::{ChatState, Conversation};
use crate::error::ApiError;
use crate::i18n::{error_message, fill, shown_file_name, words};
use crate::protocol::{Media, UPLOAD_PATH};

/// An upload in progress, with the handlers that must live as long as it.
struct InFlight {
    request: XmlHttpRequest,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    _done: Closure<dyn FnMut(Event)>,
    _failed: Closure<dyn FnMut(Event)>,
}

/// Uploads sent at once; the rest wait their turn in the tray. Below the
/// server's per-user cap (`RTCA_UPLOADS_PER_USER`, default 4), so a big
/// drop of files is never refused for being many.
const PARALLEL: usize = 3;

/// A file waiting for its turn.
struct Waiting {
    key: u32,
    file: Blob,
    name: String,
    to: Conversation,
}

thread_local! {
    static IN_FLIGHT: RefCell<HashMap<u32, InFlight>> = RefCell::new(HashMap::new());
    static WAITING: RefCell<VecDeque<Waiting>> = const { RefCell::new(VecDeque::new()) };
    static NEXT_KEY: Cell<u32> = const { Cell::new(1) };
}

/// Uploads `file` (a `File`, or a recorded `Blob`) as `name`, for the
/// conversation on screen, with `caption` as its message's text.
pub fn send_file(chat: ChatState, file: &Blob, name: String, caption: String) {
    let key = NEXT_KEY.with(|next| next.replace(next.get().wrapping_add(1)));
    let to = chat.active.get_untracked();
    let size = file.size().max(0.0) as u64;
    let Some(key) = chat.add_upload(key, name.clone(), size, to.clone(), caption) else { return };
    WAITING.with(|waiting| waiting.borrow_mut().push_back(Waiting { key, file: file.clone(), name, to }));
    start_next(chat);
}

/// Starts waiting uploads while fewer than [`PARALLEL`] are under way.
fn start_next(chat: ChatState) {
    while IN_FLIGHT.with(|all| all.borrow().len()) < PARALLEL {
        let Some(next) = WAITING.with(|waiting| waiting.borrow_mut().pop_front()) else { return };
        if start(chat, next.key, &next.file, &next.name, next.to).is_err() {
            not_sent(chat, next.key, &next.name, words().upload_browser_refused().inner());
        }
    }
}

/// Every file of a `FileList` (picked, dropped or pasted); the first
/// carries what the composer holds as its caption.
pub fn send_files(chat: ChatState, files: &web_sys::FileList) {
    // A drop of text, or a picker closed without a file, keeps the draft.
    if files.length() == 0 {
        return;
    }
    let mut caption = chat.take_caption();
    for index in 0..files.length() {
        if let Some(file) = files.get(index) {
            let name = file.name();
            send_file(chat, &file, name, std::mem::take(&mut caption));
        }
    }
}

fn start(chat: ChatState, key: u32, file: &Blob, name: &str, to: Conversation) -> Result<(), JsValue> {
    let request = XmlHttpRequest::new()?;
    let url = format!("{UPLOAD_PATH}?name={}", String::from(js_sys::encode_uri_component(name)));
    request.open_with_async("POST", &url, true)?;
    let kind = file.type_();
    if !kind.is_empty() {
        request.set_request_header("Content-Type", &kind)?;
    }
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
        chat.upload_progress(key, event.loaded().max(0.0) as u64);
    });
    request.upload()?.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    let answered = request.clone();
    let file_name = name.to_owned();
    let done = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        finished(chat, key, &answered, &file_name, to.clone());
    });
    request.set_onload(Some(done.as_ref().unchecked_ref()));
    let file_name = name.to_owned();
    let failed = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        release(chat, key);
        not_sent(chat, key, &file_name, words().upload_connection_failed().inner());
    });
    request.set_onerror(Some(failed.as_ref().unchecked_ref()));
    request.send_with_opt_blob(Some(file))?;
    IN_FLIGHT.with(|all| {
        all.borrow_mut().insert(key, InFlight { request, _progress: progress, _done: done, _failed: failed })
    });
    Ok(())
}

fn finished(chat: ChatState, key: u32, request: &XmlHttpRequest, name: &str, to: Conversation) {
    release(chat, key);
    let status = request.status().unwrap_or(0);
    let body = request.response_text().ok().flatten().unwrap_or_default();
    if status == 201 {
        match serde_json::from_str::<Media>(&body) {
            Ok(media) => {
                let caption = chat.take_upload(key).map(|upload| upload.caption).unwrap_or_default();
                let cid = crate::client::session::new_cid();
                if chat.queue(to, caption, cid, Some(media)) {
                    crate::client::session::flush_outbox(chat);
                } else {
                    chat.notice.set(Some(words().outbox_full_offline().inner().to_owned()));
                }
            }
            Err(_) => not_sent(chat, key, name, words().upload_unreadable_answer().inner()),
        }
        return;
    }
    let reason = serde_json::from_str::<ApiError>(&body)
        .map(|error| error_message(&error.code, &error.message))
        .unwrap_or_else(|_| fill(words().upload_server_answered().inner(), &[("status", &status.to_string())]));
    not_sent(chat, key, name, &reason);
}

/// Marks the upload of `name` failed on the tray, saying why.
fn not_sent(chat: ChatState, key: u32, name: &str, reason: &str) {
    let name = shown_file_name(name.to_owned());
    chat.upload_failed(key, fill(words().upload_not_sent().inner(), &[("name", &name), ("reason", reason)]));
}

/// Stops an upload (or takes it out of line) and off the tray; nothing
/// reaches the chat, and its caption goes back to the composer.
pub fn cancel(chat: ChatState, key: u32) {
    WAITING.with(|waiting| waiting.borrow_mut().retain(|w| w.key != key));
    let in_flight = IN_FLIGHT.with(|all| all.borrow_mut().remove(&key));
    if let Some(in_flight) = &in_flight {
        let _ = in_flight.request.abort();
    }
    if let Some(upload) = chat.take_upload(key) {
        chat.restore_draft(upload.caption, &upload.to);
    }
    // Handlers may still be on the stack of this very event; drop them after.
    leptos::task::spawn_local(async move {
        drop(in_flight);
        start_next(chat);
    });
}

/// Forgets an upload's handlers once it has ended, and lets the next one
/// go; later, since this runs inside one of those handlers.
fn release(chat: ChatState, key: u32) {
    leptos::task::spawn_local(async move {
        let in_flight = IN_FLIGHT.with(|all| all.borrow_mut().remove(&key));
        drop(in_flight);
        start_next(chat);
    });
}
