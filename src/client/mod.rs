//! Browser-only code (feature `hydrate`): the Socket.IO client, and the
//! glue that feeds it into the chat's signals and does what the interface
//! asks (through `crate::actions`).

pub mod address;
mod attention;
pub mod changes;
mod drafts;
pub mod keyboard;
pub mod notifications;
pub mod push;
mod resume;
pub mod service_worker;
pub mod session;
pub mod socket;
pub mod transport;
pub mod upload;
pub mod voice;
