//! When two names are the same name. `Alice`, `alice` and `Ａｌｉｃｅ`
//! (fullwidth) must be one name, or one user could pass for another. The
//! key is NFKC, lowercased, then NFKC again (lowercasing can undo a
//! normalisation), which approximates Unicode's NFKC_Casefold.
//!
//! Display names keep their original spelling; only comparisons, the
//! presence index and the registered-name index use the key.

use unicode_normalization::UnicodeNormalization;

/// The comparison key of a display name.
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
}
