//! One error type for everything a client can get wrong or the server can
//! fail at, with stable machine-readable codes. On the wire (socket acks,
//! `error` events, HTTP bodies, server functions) it is always
//! `{code, message}`: [`ApiError`].
//!
//! A code is its variant's name in snake_case (`RateLimited` is
//! `rate_limited`), so a new error cannot forget its code; the codes are
//! part of the public contract, so a test holds every one of them, and
//! renaming a variant fails it. Codes that clients match (their own, and the
//! server's they act on) are constants in [`code`].

use serde::{Deserialize, Serialize};

/// Codes that programs match, shared so that neither side spells them.
pub mod code {
    /// The server's: wait, then send the same thing again.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The server's: it failed; the details are in its log.
    pub const INTERNAL: &str = "internal";
    /// The server's: its database is out of reach; send the same again soon.
    pub const UNAVAILABLE: &str = "unavailable";
    /// The browser's: no connection to send on.
    pub const DISCONNECTED: &str = "disconnected";
    /// The browser's: no ack in time.
    pub const TIMEOUT: &str = "timeout";
    /// The browser's: too much waiting to go out already.
    pub const BUSY: &str = "busy";
    /// The browser's: an ack it could not read.
    pub const BAD_REPLY: &str = "bad_reply";
    /// The browser's: an HTTP request that failed on the way.
    pub const REQUEST_FAILED: &str = "request_failed";
    /// The browser's: the page must be loaded again.
    pub const RELOAD: &str = "reload";
    /// A form post refused with an error the page could not read.
    pub const REFUSED: &str = "refused";
    /// An address with nothing at it.
    pub const NOT_FOUND: &str = "not_found";
    /// A request the server could not read at all.
    pub const BAD_REQUEST: &str = "bad_request";
}

/// What went wrong. `code()` values are part of the public contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum ChatError {
    #[error("say who you are first: send `online` with a name")]
    NotOnline,
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("that name, or one that looks just like it, is someone else's; pick another")]
    NameTaken,
    #[error("there is no such user")]
    NoSuchUser,
    #[error("there is no such room")]
    NoSuchRoom,
    #[error("unknown event `{0}`")]
    UnknownEvent(String),
    #[error("your session has expired or is not valid; join again")]
    InvalidSession,
    #[error("this connection already speaks for someone")]
    AlreadyOnline,
    #[error("that name belongs to a registered account; sign in, or pick another name")]
    NameRegistered,
    #[error("wrong name or password")]
    BadCredentials,
    #[error("a password needs at least {min} characters (and at most {max})")]
    WeakPassword { min: usize, max: usize },
    #[error("this server does not take guests; sign in or create an account")]
    GuestsDisabled,
    #[error("registered accounts keep their name")]
    MemberRename,
    #[error("a room with that name exists already")]
    RoomExists,
    #[error("join the room first")]
    NotAMember,
    #[error("you are in {max} rooms already; leave one first")]
    TooManyRooms { max: usize },
    #[error("you are doing that too often; wait a moment and try again")]
    RateLimited,
    #[error("too many connections from this account or address; close some tabs and try again")]
    TooManyConnections,
    #[error("that file is not available to send; upload it again")]
    NoSuchMedia,
    #[error("the file is too large: the limit is {limit}")]
    FileTooLarge { limit: String },
    #[error("this kind of file cannot be shared here; send an image, audio, video or PDF")]
    UnsupportedFile,
    #[error("this image could not be read; it may be damaged or too large")]
    UnreadableImage,
    #[error("too many uploads at once; wait for one to finish")]
    TooManyUploads,
    #[error("the upload stopped arriving; check your connection and try again")]
    RequestTimeout,
    #[error("there is no such message")]
    NoSuchMessage,
    #[error("only its author can edit or delete a message")]
    NotYourMessage,
    #[error("that message was deleted")]
    MessageDeleted,
    #[error("a message can carry at most {max} different reactions")]
    TooManyReactions { max: usize },
    #[error("@here and @room call rooms of at most {max} members, and never the lobby or a private conversation")]
    CannotCallEveryone { max: usize },
    #[error("this server sends no pushes")]
    PushOff,
    #[error("that push endpoint is refused: {0}")]
    PushEndpointRefused(String),
    #[error("the server cannot reach its database just now; try again in a moment")]
    Unavailable,
    #[error("the server failed; please try again")]
    Internal,
}

impl ChatError {
    /// Its code on the wire: the variant's name in snake_case, or, for
    /// [`ChatError::Invalid`], the input error's own.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::Invalid(invalid) => invalid.code(),
            other => other.into(),
        }
    }
}

/// What a person can get wrong typing a message, a display name or a room
/// name. The browser checks these before sending, and the server again. A
/// type of its own so that the browser bundle carries these words only, not
/// every [`ChatError`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum InvalidInput {
    #[error("a message cannot be empty")]
    EmptyText,
    #[error("a message can have at most {max} characters")]
    TextTooLong { max: usize },
    #[error("{0}")]
    InvalidName(String),
    #[error("a room name is 1 to {max} lowercase letters, digits, - or _")]
    InvalidRoomName { max: usize },
    #[error("a room title is 1 to {max} characters, in any script, on one line")]
    InvalidRoomTitle { max: usize },
}

impl InvalidInput {
    /// Its code on the wire, the variant's name in snake_case: part of the
    /// public contract as [`ChatError::code`]'s are.
    pub fn code(&self) -> &'static str {
        self.into()
    }
}

/// The wire form of an error: `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { code: code.into(), message: message.into() }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        ApiError::new(error.code(), error.to_string())
    }
}

impl From<InvalidInput> for ApiError {
    fn from(error: InvalidInput) -> Self {
        ApiError::new(error.code(), error.to_string())
    }
}

/// Lets server functions return `Result<T, ApiError>`, so the UI shows the
/// same words the socket would.
impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        ApiError::new(code::REQUEST_FAILED, format!("the request failed: {value}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public contract: each error's code, as clients have always seen
    /// it. A variant renamed would change its code; this says so.
    #[test]
    fn every_code_stays_what_clients_know() {
        let size = InvalidInput::TextTooLong { max: 1 };
        let codes = [
            (ChatError::NotOnline, "not_online"),
            (ChatError::InvalidPayload(String::new()), "invalid_payload"),
            (ChatError::Invalid(InvalidInput::EmptyText), "empty_text"),
            (ChatError::Invalid(size), "text_too_long"),
            (ChatError::Invalid(InvalidInput::InvalidName(String::new())), "invalid_name"),
            (ChatError::Invalid(InvalidInput::InvalidRoomName { max: 1 }), "invalid_room_name"),
            (ChatError::Invalid(InvalidInput::InvalidRoomTitle { max: 1 }), "invalid_room_title"),
            (ChatError::NameTaken, "name_taken"),
            (ChatError::NoSuchUser, "no_such_user"),
            (ChatError::NoSuchRoom, "no_such_room"),
            (ChatError::UnknownEvent(String::new()), "unknown_event"),
            (ChatError::InvalidSession, "invalid_session"),
            (ChatError::AlreadyOnline, "already_online"),
            (ChatError::NameRegistered, "name_registered"),
            (ChatError::BadCredentials, "bad_credentials"),
            (ChatError::WeakPassword { min: 1, max: 2 }, "weak_password"),
            (ChatError::GuestsDisabled, "guests_disabled"),
            (ChatError::MemberRename, "member_rename"),
            (ChatError::RoomExists, "room_exists"),
            (ChatError::NotAMember, "not_a_member"),
            (ChatError::TooManyRooms { max: 1 }, "too_many_rooms"),
            (ChatError::RateLimited, code::RATE_LIMITED),
            (ChatError::TooManyConnections, "too_many_connections"),
            (ChatError::NoSuchMedia, "no_such_media"),
            (ChatError::FileTooLarge { limit: String::new() }, "file_too_large"),
            (ChatError::UnsupportedFile, "unsupported_file"),
            (ChatError::UnreadableImage, "unreadable_image"),
            (ChatError::TooManyUploads, "too_many_uploads"),
            (ChatError::RequestTimeout, "request_timeout"),
            (ChatError::NoSuchMessage, "no_such_message"),
            (ChatError::NotYourMessage, "not_your_message"),
            (ChatError::MessageDeleted, "message_deleted"),
            (ChatError::TooManyReactions { max: 1 }, "too_many_reactions"),
            (ChatError::CannotCallEveryone { max: 1 }, "cannot_call_everyone"),
            (ChatError::PushOff, "push_off"),
            (ChatError::PushEndpointRefused(String::new()), "push_endpoint_refused"),
            (ChatError::Unavailable, code::UNAVAILABLE),
            (ChatError::Internal, code::INTERNAL),
        ];
        for (error, code) in &codes {
            assert_eq!(error.code(), *code, "{error:?}");
        }
        // Every variant is above (`Invalid` once per input error).
        let variants = <ChatError as strum::VariantNames>::VARIANTS.len() - 1;
        let inputs = <InvalidInput as strum::VariantNames>::VARIANTS.len();
        assert_eq!(codes.len(), variants + inputs, "a new error: add its code here");
        assert_eq!((code::RATE_LIMITED, code::INTERNAL), ("rate_limited", "internal"));
    }
}
