//! One error type for everything a client can get wrong or the server can
//! fail at, with stable machine-readable codes. On the wire (socket acks,
//! `error` events, HTTP bodies, server functions) it is always
//! `{code, message}`: [`ApiError`].

use serde::{Deserialize, Serialize};

/// What went wrong. `code()` values are part of the public contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("say who you are first: send `online` with a name")]
    NotOnline,
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("that name is in use by someone online; pick another")]
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
    #[error("the server failed; please try again")]
    Internal,
}

impl ChatError {
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::NotOnline => "not_online",
            ChatError::InvalidPayload(_) => "invalid_payload",
            ChatError::Invalid(invalid) => invalid.code(),
            ChatError::NameTaken => "name_taken",
            ChatError::NoSuchUser => "no_such_user",
            ChatError::NoSuchRoom => "no_such_room",
            ChatError::UnknownEvent(_) => "unknown_event",
            ChatError::InvalidSession => "invalid_session",
            ChatError::AlreadyOnline => "already_online",
            ChatError::NameRegistered => "name_registered",
            ChatError::BadCredentials => "bad_credentials",
            ChatError::WeakPassword { .. } => "weak_password",
            ChatError::GuestsDisabled => "guests_disabled",
            ChatError::MemberRename => "member_rename",
            ChatError::RoomExists => "room_exists",
            ChatError::NotAMember => "not_a_member",
            ChatError::TooManyRooms { .. } => "too_many_rooms",
            ChatError::RateLimited => "rate_limited",
            ChatError::TooManyConnections => "too_many_connections",
            ChatError::NoSuchMedia => "no_such_media",
            ChatError::FileTooLarge { .. } => "file_too_large",
            ChatError::UnsupportedFile => "unsupported_file",
            ChatError::UnreadableImage => "unreadable_image",
            ChatError::TooManyUploads => "too_many_uploads",
            ChatError::Internal => "internal",
        }
    }
}

/// What a person can get wrong typing a message, a display name or a room
/// name. The browser checks these before sending, and the server again. A
/// type of its own so that the browser bundle carries these words only, not
/// every [`ChatError`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("a message cannot be empty")]
    EmptyText,
    #[error("a message can have at most {max} characters")]
    TextTooLong { max: usize },
    #[error("{0}")]
    InvalidName(String),
    #[error("a room name is 1 to {max} lowercase letters, digits, - or _")]
    InvalidRoomName { max: usize },
}

impl InvalidInput {
    /// Its code on the wire, part of the public contract as
    /// [`ChatError::code`]'s are.
    pub fn code(&self) -> &'static str {
        match self {
            InvalidInput::EmptyText => "empty_text",
            InvalidInput::TextTooLong { .. } => "text_too_long",
            InvalidInput::InvalidName(_) => "invalid_name",
            InvalidInput::InvalidRoomName { .. } => "invalid_room_name",
        }
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
        ApiError::new("request_failed", format!("the request failed: {value}"))
    }
}
