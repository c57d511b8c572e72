//! Focus and keys, for a whole session without a mouse: where focus goes
//! when the view it was in is replaced (after joining the chat or a room,
//! focus would fall to `<body>`), the skip link to the composer, and the
//! arrow keys in the sidebar's lists, Tab kept inside what covers the
//! page (the image viewer, the phone's drawer or thread), where a finger
//! is (the drawer's swipes). Esc in a message's menu is
//! `actions::message_key`. And the phone's on-screen keyboard: the page
//! is as tall as what it leaves visible, so the composer stays above it.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Where typing happens, in order of preference: the composer; in a room
/// I have not joined, its Join button; before joining the chat, the name
/// field (or, on a server without guests, the account's).
const TYPING_PLACES: [&str; 4] = ["[data-testid=composer]", ".join-room button", "#join-name", "#account-name"];

/// Focuses the first of [`TYPING_PLACES`] the page has; whether one was.
pub fn focus_typing_place() -> bool {
    let page = document();
    let found = TYPING_PLACES
        .iter()
        .find_map(|selector| page.query_selector(selector).ok().flatten())
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
    found.is_some_and(|element| element.focus().is_ok())
}

/// The same, once the view has caught up with a change (the form that had
/// the focus is gone, the composer not there yet).
pub fn focus_typing_place_soon() {
    request_animation_frame(|| {
        focus_typing_place();
    });
}

/// Focuses what `selector` finds once the view has caught up (a panel
/// that has just opened).
pub fn focus_soon(selector: &'static str) {
    request_animation_frame(move || {
        let found = document().query_selector(selector).ok().flatten();
        if let Some(element) = found.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}

/// What Tab can reach, in a part of the page.
const TABBABLE: &str = ":is(a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
                        select:not([disabled]), textarea:not([disabled]), summary, [tabindex='0']):not([tabindex='-1'])";

/// Keeps Tab and Shift+Tab inside `within` (the image viewer, the
/// phone's drawer, a thread over a phone's conversation): from its last
/// control to its first and back, and into it when the focus is outside
/// (for a listener on the window). Between its controls the browser
/// moves the focus as usual.
pub fn keep_tab_within(event: &leptos::ev::KeyboardEvent, within: &str) {
    // Already handled (a trap nearer the focus, the `@` menu's Tab).
    if event.key() != "Tab" || event.default_prevented() || event.ctrl_key() || event.alt_key() || event.meta_key() {
        return;
    }
    let page = document();
    let Some(container) = page.query_selector(within).ok().flatten() else { return };
    let Ok(found) = container.query_selector_all(TABBABLE) else { return };
    // Only what is shown: a hidden control cannot take the focus.
    let controls: Vec<web_sys::HtmlElement> = (0..found.length())
        .filter_map(|at| found.item(at)?.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|control| control.get_client_rects().length() > 0)
        .collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else { return };
    let focused = page.active_element();
    let inside = focused.as_ref().is_some_and(|focused| container.contains(Some(focused)));
    let at_edge = |control: &web_sys::HtmlElement| focused.as_ref().is_some_and(|focused| **control == *focused);
    let to = match (inside, event.shift_key()) {
        (false, false) => first,
        (false, true) => last,
        (true, false) if at_edge(last) => first,
        (true, true) if at_edge(first) => last,
        _ => return,
    };
    event.prevent_default();
    let _ = to.focus();
}

/// Where a one-finger touch is, or where it ended (a `touchend` lists the
/// finger that left in its changed touches); none for two fingers or more.
pub fn touch_point(event: &leptos::ev::TouchEvent) -> Option<(i32, i32)> {
    if event.touches().length() > 1 || event.changed_touches().length() != 1 {
        return None;
    }
    let touch = event.changed_touches().get(0)?;
    Some((touch.client_x(), touch.client_y()))
}

/// Whether what `selector` names is laid out on screen now.
pub fn is_shown(selector: &str) -> bool {
    let found = document().query_selector(selector).ok().flatten();
    found.is_some_and(|element| element.get_client_rects().length() > 0)
}

/// The skip link: straight to where typing happens, without a history
/// entry for the fragment.
pub fn skip_link(event: &leptos::ev::MouseEvent) {
    if focus_typing_place() {
        event.prevent_default();
    }
}

/// Arrow keys in a sidebar list: Up and Down move to the previous or next
/// button of the list, Home and End to the first or last. Tab still leaves
/// the list for the next part of the page.
pub fn move_in_list(event: &leptos::ev::KeyboardEvent) {
    let step = match event.key().as_str() {
        "ArrowDown" => Step::Next,
        "ArrowUp" => Step::Previous,
        "Home" => Step::First,
        "End" => Step::Last,
        _ => return,
    };
    let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
    // Only from a list's own buttons, not from a field inside the sidebar.
    let (Ok(Some(item)), Ok(Some(list))) = (target.closest("ul > li"), target.closest("ul")) else { return };
    if target.tag_name() != "BUTTON" {
        return;
    }
    let next = match step {
        Step::Next => item.next_element_sibling(),
        Step::Previous => item.previous_element_sibling(),
        Step::First => list.first_element_child(),
        Step::Last => list.last_element_child(),
    };
    let button = next
        .and_then(|item| item.query_selector("button").ok().flatten())
        .and_then(|button| button.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = button {
        event.prevent_default();
        let _ = button.focus();
    }
}

enum Step {
    Next,
    Previous,
    First,
    Last,
}

/// Keeps `--viewport-height` on `<html>` at the height the on-screen
/// keyboard leaves visible (`visualViewport`), which the page's height
/// follows (`style/main.css`): the composer stays above the keyboard on
/// browsers that shrink only the visual viewport (Safari on iOS).
pub fn follow_visual_viewport() {
    let Some(viewport) = window().visual_viewport() else { return };
    let resize = {
        let viewport = viewport.clone();
        wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
            // A pinch-zoom resizes the visual viewport too; only the
            // keyboard's change of height (at scale 1) is followed.
            if (viewport.scale() - 1.0).abs() > 0.01 {
                return;
            }
            let Some(html) = document().document_element() else { return };
            if let Ok(html) = html.dyn_into::<web_sys::HtmlElement>() {
                let height = format!("{}px", viewport.height().round());
                let _ = html.style().set_property("--viewport-height", &height);
            }
        })
    };
    let _ = viewport.add_event_listener_with_callback("resize", resize.as_ref().unchecked_ref());
    // For the page's lifetime.
    resize.forget();
}
