//! The order people are listed in: by name, ignoring case and accents, so
//! "émile" sits among the e's and "Zoë" beside "zoe".
//!
//! The server sorts the presence list with it and the browser keeps that
//! order as changes come in; both must agree to the letter, or the list
//! would jump at the first change. So this is one function both sides
//! compile, not a locale's collation, which neither side could reproduce
//! exactly.
//!
//! Folded: case and accents of Latin letters (Latin-1 and Latin
//! Extended-A) and of Greek ones, and the case of Cyrillic capitals (its
//! letters with marks, such as ё or ї, are letters of their own in some
//! languages, so they keep their place). Anything else sorts by code point.
//! A small table rather than `str::to_lowercase`, whose Unicode table alone
//! is 11.7 KB of the browser bundle (4.3 KB gzipped).

use std::cmp::Ordering;

use super::User;

/// The base letter, lowercased, of each of U+00C0 to U+017F (Latin-1
/// letters and Latin Extended-A); `.` marks the two that are not letters
/// (× and ÷).
const LATIN_BASE: &[u8; 192] = b"aaaaaaaceeeeiiiidnooooo.ouuuuyts\
aaaaaaaceeeeiiiidnooooo.ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggg\
gggghhhhiiiiiiiiiiiijjkkklllllll\
lllnnnnnnnnnoooooooorrrrrrssssss\
ssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// `c` as the list compares it.
pub(super) fn fold(c: char) -> char {
    let code = c as u32;
    match code {
        0x41..=0x5A => (code as u8 + 32) as char,
        0xC0..=0x17F => match LATIN_BASE[(code - 0xC0) as usize] {
            b'.' => c,
            base => base as char,
        },
        // Greek: capitals, the final sigma, and vowels with tonos or
        // dialytika.
        0x391..=0x3A9 => char::from_u32(code + 0x20).unwrap_or(c),
        0x3C2 => 'σ',
        0x386 | 0x3AC => 'α',
        0x388 | 0x3AD => 'ε',
        0x389 | 0x3AE => 'η',
        0x38A | 0x3AA | 0x3AF | 0x3CA | 0x390 => 'ι',
        0x38C | 0x3CC => 'ο',
        0x38E | 0x3AB | 0x3CD | 0x3CB | 0x3B0 => 'υ',
        0x38F | 0x3CE => 'ω',
        // Cyrillic capitals: Ѐ to Џ, then А to Я.
        0x400..=0x40F => char::from_u32(code + 0x50).unwrap_or(c),
        0x410..=0x42F => char::from_u32(code + 0x20).unwrap_or(c),
        _ => c,
    }
}

/// Whether `name` starts with `prefix`, both folded: what the composer's
/// `@` menu matches a typed name by ("é" finds "Émile").
pub fn starts_with_folded(name: &str, prefix: &str) -> bool {
    let mut name = name.chars().map(fold);
    prefix.chars().map(fold).all(|c| name.next() == Some(c))
}

/// By folded name, then exactly by name, then by id: a total order, so the
/// server's list and the browser's re-sorting of it come out the same.
pub fn by_name(a: &User, b: &User) -> Ordering {
    a.name.chars().map(fold).cmp(b.name.chars().map(fold)).then_with(|| a.name.cmp(&b.name)).then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut users: Vec<User> =
            names.iter().enumerate().map(|(i, name)| User { id: i as i64, name: (*name).to_owned() }).collect();
        users.sort_by(by_name);
        users.into_iter().map(|u| u.name).collect()
    }

    #[test]
    fn case_and_accents_do_not_split_names_apart() {
        assert_eq!(
            sorted(&["zoe", "Émile", "adam", "Zoë", "eve", "Łukasz", "Bob", "émile", "luc", "ZOE"]),
            ["adam", "Bob", "Émile", "émile", "eve", "luc", "Łukasz", "ZOE", "Zoë", "zoe"]
        );
    }

    #[test]
    fn greek_ignores_case_and_accents_and_cyrillic_case() {
        assert_eq!(
            sorted(&["Ωμέγα", "Άννα", "αλέξης", "Борис", "анна", "Βήτα", "άννα"]),
            ["αλέξης", "Άννα", "άννα", "Βήτα", "Ωμέγα", "анна", "Борис"]
        );
        assert_eq!(fold('Ϋ'), 'υ');
        assert_eq!(fold('ΐ'), 'ι');
        assert_eq!(fold('Σ'), fold('ς'));
        assert_eq!(fold('Ё'), 'ё');
    }

    #[test]
    fn the_table_lines_up_with_the_code_points() {
        assert_eq!(fold('À'), 'a');
        assert_eq!(fold('×'), '×');
        assert_eq!(fold('Ø'), 'o');
        assert_eq!(fold('ÿ'), 'y');
        assert_eq!(fold('Ā'), 'a');
        assert_eq!(fold('ŉ'), 'n');
        assert_eq!(fold('ſ'), 's');
        assert_eq!(fold('ƀ'), 'ƀ');
        assert_eq!(fold('1'), '1');
    }

    /// Every Latin letter of the table against Unicode's own decomposition
    /// (the server's normaliser; the browser does not carry it).
    #[cfg(feature = "ssr")]
    #[test]
    fn the_latin_table_matches_unicode_decompositions() {
        use unicode_normalization::UnicodeNormalization;
        let mut checked = 0;
        for c in (0xC0..=0x17F).filter_map(char::from_u32) {
            let base = c.to_string().nfkd().next();
            if let Some(base) = base.filter(char::is_ascii_alphabetic) {
                assert_eq!(fold(c), base.to_ascii_lowercase(), "{c} (U+{:04X})", c as u32);
                checked += 1;
            }
        }
        assert!(checked > 150, "only {checked} letters decompose to ASCII");
    }

    #[test]
    fn equal_names_still_have_an_order() {
        let a = User { id: 1, name: "ann".into() };
        let b = User { id: 2, name: "ann".into() };
        assert_eq!(by_name(&a, &b), Ordering::Less);
        assert_eq!(by_name(&b, &a), Ordering::Greater);
        assert_eq!(by_name(&a, &a), Ordering::Equal);
    }
}
