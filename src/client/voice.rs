//! Voice messages: records the microphone with MediaRecorder, hands back a
//! preview URL, and sends the recording as an ordinary upload. One
//! recording at a time; the JavaScript objects live here, the component
//! only sees what stage it is at.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobEvent, BlobPropertyBag, MediaRecorder, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use crate::chat_state::ChatState;
use crate::i18n::words;

struct Recorder {
    recorder: MediaRecorder,
    stream: MediaStream,
    chunks: Rc<RefCell<Vec<Blob>>>,
    _on_data: Closure<dyn FnMut(BlobEvent)>,
}

thread_local! {
    /// Bumped by every discard, so a microphone granted after the user gave
    /// up is released instead of recording.
    static GENERATION: Cell<u32> = const { Cell::new(0) };
    static RECORDING: RefCell<Option<Recorder>> = const { RefCell::new(None) };
    /// The finished recording and its preview URL, until sent or discarded.
    static TAKE: RefCell<Option<(Blob, String)>> = const { RefCell::new(None) };
}

/// Asks for the microphone and starts recording.
pub async fn start() -> Result<(), String> {
    discard();
    let generation = GENERATION.with(Cell::get);
    let devices =
        web_sys::window().and_then(|window| window.navigator().media_devices().ok()).ok_or_else(unsupported)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let asked = devices.get_user_media_with_constraints(&constraints).map_err(|_| unsupported())?;
    let stream: MediaStream =
        JsFuture::from(asked).await.map_err(|_| words().recorder_no_microphone().inner().to_owned())?.unchecked_into();
    if GENERATION.with(Cell::get) != generation {
        release(&stream);
        return Err(words().recorder_cancelled().inner().to_owned());
    }
    let recorder = match MediaRecorder::new_with_media_stream(&stream) {
        Ok(recorder) => recorder,
        Err(_) => {
            release(&stream);
            return Err(unsupported());
        }
    };
    let chunks = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&chunks);
    let on_data = Closure::<dyn FnMut(BlobEvent)>::new(move |event: BlobEvent| {
        if let Some(data) = event.data() {
            sink.borrow_mut().push(data);
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    if recorder.start().is_err() {
        recorder.set_ondataavailable(None);
        release(&stream);
        return Err(words().recorder_could_not_start().inner().to_owned());
    }
    RECORDING.with(|slot| *slot.borrow_mut() = Some(Recorder { recorder, stream, chunks, _on_data: on_data }));
    Ok(())
}

/// What the recorder says when the browser has no way to record.
fn unsupported() -> String {
    words().recorder_unsupported().inner().to_owned()
}

/// Lets go of the microphone.
fn release(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// Stops recording, releases the microphone and returns a URL to preview
/// the take.
pub async fn stop() -> Result<String, String> {
    let Some(active) = RECORDING.with(|slot| slot.borrow_mut().take()) else {
        return Err(words().recorder_not_recording().inner().to_owned());
    };
    // The last chunk arrives before `stop` fires. A recorder that already
    // stopped by itself (the microphone went away) fires nothing more.
    if active.recorder.state() != web_sys::RecordingState::Inactive {
        let stopped = js_sys::Promise::new(&mut |resolve, _| {
            active.recorder.set_onstop(Some(&resolve));
        });
        if active.recorder.stop().is_ok() {
            let _ = JsFuture::from(stopped).await;
        }
    }
    active.recorder.set_ondataavailable(None);
    release(&active.stream);
    let parts = js_sys::Array::new();
    for chunk in active.chunks.borrow().iter() {
        parts.push(chunk);
    }
    let options = BlobPropertyBag::new();
    options.set_type(&active.recorder.mime_type());
    let take = Blob::new_with_blob_sequence_and_options(&parts, &options)
        .map_err(|_| words().recorder_lost().inner().to_owned())?;
    if take.size() == 0.0 {
        return Err(words().recorder_empty().inner().to_owned());
    }
    let url = web_sys::Url::create_object_url_with_blob(&take)
        .map_err(|_| words().recorder_unplayable().inner().to_owned())?;
    TAKE.with(|slot| *slot.borrow_mut() = Some((take, url.clone())));
    Ok(url)
}

/// Sends the take as a voice message.
pub fn send(chat: ChatState) {
    if let Some((take, url)) = TAKE.with(|slot| slot.borrow_mut().take()) {
        let extension = match take.type_() {
            kind if kind.starts_with("audio/ogg") => "ogg",
            kind if kind.starts_with("audio/mp4") => "m4a",
            _ => "webm",
        };
        crate::client::upload::send_file(
            chat,
            &take,
            format!("{}.{extension}", crate::i18n::VOICE_TAKE_NAME),
            String::new(),
        );
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// Drops the take, and stops a recording in progress or about to start.
pub fn discard() {
    GENERATION.with(|generation| generation.set(generation.get().wrapping_add(1)));
    if let Some(active) = RECORDING.with(|slot| slot.borrow_mut().take()) {
        // The handler goes first: the last chunk would arrive after it is freed.
        active.recorder.set_ondataavailable(None);
        let _ = active.recorder.stop();
        release(&active.stream);
    }
    if let Some((_, url)) = TAKE.with(|slot| slot.borrow_mut().take()) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}
