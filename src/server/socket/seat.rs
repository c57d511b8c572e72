//! A socket's seat: which user the socket speaks for, and whether it is
//! counted in [`Presence`].
//!
//! socketioxide runs every handler, the disconnect handler included, as its
//! own task, so a socket can close while `online` is still waiting on the
//! database. Seating, counting and leaving therefore all happen under the
//! seat's lock (with presence's lock nested inside, always in that order),
//! and a closed seat refuses to be counted: a user can never be left online
//! by a socket that is gone.

use std::sync::{Arc, Mutex, MutexGuard};

use super::presence::Presence;
use crate::error::ChatError;
use crate::protocol::User;

/// Shared by all of one socket's handlers (socket extensions hand out clones).
#[derive(Clone, Default)]
pub struct Seat(Arc<Mutex<SeatState>>);

#[derive(Default)]
struct SeatState {
    user: Option<User>,
    /// This socket is one of `user`'s connections in presence.
    counted: bool,
    /// The socket has disconnected.
    closed: bool,
}

impl Seat {
    fn lock(&self) -> MutexGuard<'_, SeatState> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn user(&self) -> Option<User> {
        self.lock().user.clone()
    }

    /// Remembers the user a session token or cookie restored. Counting waits
    /// for [`Seat::count`], once the socket is connected and its disconnect
    /// handler is sure to run.
    pub fn restore(&self, user: User) {
        self.lock().user = Some(user);
    }

    /// Counts the restored user online; true if they just came online.
    pub fn count(&self, presence: &Presence) -> bool {
        let mut seat = self.lock();
        let Some(user) = seat.user.clone() else { return false };
        if seat.closed || seat.counted {
            return false;
        }
        seat.counted = true;
        // Restoring never fails on a name: the identity is already theirs.
        presence.connect(&user, false).unwrap_or(false)
    }

    /// Seats and counts a user who went `online` on this socket; true if
    /// they just came online. Fails if the seat is taken or the name is held
    /// by another online user.
    pub fn sit(&self, user: &User, presence: &Presence) -> Result<bool, ChatError> {
        let mut seat = self.lock();
        if seat.closed {
            return Err(ChatError::Internal);
        }
        if seat.user.is_some() {
            return Err(ChatError::AlreadyOnline);
        }
        let came_online = presence.connect(user, true)?;
        seat.user = Some(user.clone());
        seat.counted = true;
        Ok(came_online)
    }

    /// Gives the seated user a new name, if no other online user holds it.
    ///
    /// A restored seat not counted yet (an `online` that came before
    /// `connected` ran) is counted here, claiming the new name under
    /// presence's lock: counted later, it would join presence without a
    /// check, under a name someone online may hold. An event handler runs
    /// only on a connected socket, whose disconnect handler will run.
    pub fn rename(&self, user: &User, presence: &Presence) -> Result<(), ChatError> {
        let mut seat = self.lock();
        if seat.counted {
            presence.rename(user)?;
        } else if !seat.closed {
            presence.connect_renamed(user)?;
            seat.counted = true;
        }
        seat.user = Some(user.clone());
        Ok(())
    }

    /// Gives the seated user back a name that was theirs (see
    /// [`Presence::restore_name`]).
    pub fn restore_name(&self, user: &User, presence: &Presence) {
        let mut seat = self.lock();
        if seat.counted {
            presence.restore_name(user);
        }
        seat.user = Some(user.clone());
    }

    /// The socket closed. Returns the user if that was their last connection.
    pub fn leave(&self, presence: &Presence) -> Option<User> {
        let mut seat = self.lock();
        seat.closed = true;
        if !std::mem::take(&mut seat.counted) {
            return None;
        }
        presence.disconnect(seat.user.as_ref()?.id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn alice() -> User {
        User { id: 1, name: "alice".into() }
    }

    #[test]
    fn a_closed_seat_is_never_counted() {
        let presence = Presence::default();
        let seat = Seat::default();
        seat.restore(alice());
        assert_eq!(seat.leave(&presence), None);
        assert!(!seat.count(&presence));
        assert!(seat.sit(&alice(), &presence).is_err());
        assert!(presence.users().is_empty());
    }

    /// A restored seat renamed before it is counted: the new name is
    /// checked against everyone online, and the seat is counted under it.
    #[test]
    fn a_rename_before_counting_claims_the_name() {
        let presence = Presence::default();
        let bob = User { id: 2, name: "bob".into() };
        presence.connect(&bob, true).unwrap();
        let seat = Seat::default();
        seat.restore(alice());
        let as_bob = User { id: 1, name: "BOB".into() };
        assert_eq!(seat.rename(&as_bob, &presence), Err(ChatError::NameTaken));
        assert_eq!(presence.users().len(), 1, "counted under a taken name");
        let as_carol = User { id: 1, name: "carol".into() };
        seat.rename(&as_carol, &presence).unwrap();
        assert!(!seat.count(&presence), "counted twice");
        assert!(presence.users().contains(&as_carol));
        assert_eq!(seat.leave(&presence), Some(as_carol));
    }

    #[test]
    fn counting_happens_once_and_leaving_undoes_it() {
        let presence = Presence::default();
        let seat = Seat::default();
        seat.restore(alice());
        assert!(seat.count(&presence));
        assert!(!seat.count(&presence));
        assert_eq!(presence.users().len(), 1);
        assert_eq!(seat.leave(&presence), Some(alice()));
        assert_eq!(seat.leave(&presence), None);
        assert!(presence.users().is_empty());
    }

    #[test]
    fn one_socket_sits_one_user() {
        let presence = Presence::default();
        let seat = Seat::default();
        assert!(seat.sit(&alice(), &presence).unwrap());
        assert_eq!(seat.sit(&User { id: 2, name: "bob".into() }, &presence), Err(ChatError::AlreadyOnline));
        assert_eq!(presence.users().len(), 1);
    }
}
