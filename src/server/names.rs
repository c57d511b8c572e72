//! When two names are the same name. `Alice`, `alice` and `Ａｌｉｃｅ`
//! (fullwidth) must be one name, or one user could pass for another; so
//! must `Olivia` and `Olivіa` (a Cyrillic і), or `AIice` (a capital I) and
//! `Alice`, which nobody can tell apart on screen.
//!
//! Two keys, because the two relations do not make one: `AIice` looks like
//! `Alice`, and is `aiice` up to case, which does not.
//! - the folded key: NFKC, lowercased, then NFKC again (lowercasing can
//!   undo a normalisation), which approximates Unicode's NFKC_Casefold;
//! - the skeleton: Unicode TS #39's confusable skeleton of the name as
//!   written, then folded, so `A1ice`, `AIice` and `Alice` share one.
//!
//! Two names are one when either key is equal. Display names keep their
//! original spelling; only comparisons, the presence index and the users
//! table's indexes use the keys.

use unicode_normalization::UnicodeNormalization;

/// The comparison keys of a display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameKeys {
    /// The name up to case, width and composition.
    pub folded: String,
    /// The name up to look-alike characters.
    pub skeleton: String,
}

impl NameKeys {
    pub fn of(name: &str) -> NameKeys {
        let written: String = name.trim().nfkc().collect();
        let skeleton: String = unicode_security::skeleton(&written).collect();
        // The folded key exactly as sign-in looks an account up.
        NameKeys { folded: name_key(name), skeleton: name_key(&skeleton) }
    }
}

/// The folded comparison key of a display name (see the module's header).
pub fn name_key(name: &str) -> String {
    name.trim().nfkc().flat_map(char::to_lowercase).nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_width_and_composition_do_not_make_a_new_name() {
        assert_eq!(name_key("Alice"), name_key("alice"));
        assert_eq!(name_key("ＡＬＩＣＥ"), "alice");
        assert_eq!(name_key("Ame\u{301}lie"), name_key("Amélie"));
        assert_eq!(name_key("ÅSA"), name_key("åsa"));
        assert_ne!(name_key("alice"), name_key("alicia"));
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let skeleton = |name: &str| NameKeys::of(name).skeleton;
        assert_eq!(skeleton("Olivіa2"), skeleton("Olivia2"), "a Cyrillic і");
        assert_eq!(skeleton("AIice"), skeleton("Alice"), "a capital I");
        assert_eq!(skeleton("A1ice"), skeleton("Alice"), "a digit one");
        assert_eq!(skeleton("pаypal"), skeleton("paypal"), "a Cyrillic а");
        assert_eq!(skeleton("中文"), "中文");
        assert_ne!(skeleton("alice"), skeleton("alicia"));
        // Case alone is the folded key's business, the same key sign-in
        // looks for, even where NFKC makes a leading space.
        assert_eq!(NameKeys::of("ALICE").folded, NameKeys::of("alice").folded);
        assert_eq!(NameKeys::of("\u{b4}Bob").folded, name_key("\u{b4}Bob"));
    }
}
