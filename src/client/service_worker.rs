//! Registers the app's one service worker (`public/sw.js`), which opens
//! the app from its last copy when the network is down. Where the browser
//! has no service workers (or refuses them), the app works as before.

/// Registers `/sw.js` for the whole site; failures are only logged.
pub fn register() {
    let Some(window) = web_sys::window() else { return };
    // Plain http (not localhost) has no `navigator.serviceWorker`, and
    // calling into it would throw.
    let navigator = window.navigator();
    let present = js_sys::Reflect::get(&navigator, &wasm_bindgen::JsValue::from_str("serviceWorker"))
        .is_ok_and(|workers| !workers.is_undefined() && !workers.is_null());
    if !window.is_secure_context() || !present {
        return;
    }
    let workers = navigator.service_worker();
    let registering = workers.register("/sw.js");
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(problem) = wasm_bindgen_futures::JsFuture::from(registering).await {
            leptos::logging::warn!("the service worker was not registered: {problem:?}");
        }
    });
}
