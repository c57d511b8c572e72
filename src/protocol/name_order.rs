//! The order people are listed in: by name, ignoring case and accents, so
//! "émile" sits among the e's and "Zoë" beside "zoe".
//!
//! The server sorts the presence list with it and the browser keeps that
//! order as changes come in; both must agree to the letter, or the list
//! would jump at the first change (and a server-rendered page would not
//! hydrate). So this is one function both sides compile, not a locale's
//! collation, which neither side could reproduce exactly.
//!
//! Case and accents are folded for the Latin, Greek and Cyrillic letters
//! people's names mostly use; anything else sorts by code point. The fold is
//! a table of 192 letters rather than `str::to_lowercase`, whose Unicode
//! tables cost the browser bundle about 6 KB gzipped for this one list.

use std::cmp::Ordering;

use super::User;

/// The base letter, lowercased, of U+00C0 to U+017F (Latin-1 letters and
/// Latin Extended-A); `.` marks the two that are not letters (× and ÷).
const LATIN_BASE: &[u8; 192] = b"aaaaaaaceeeeiiiidnooooo.ouuuuyts\
aaaaaaaceeeeiiiidnooooo.ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggg\
gggghhhhiiiiiiiiiiiijjkkklllllll\
lllnnnnnnnnnoooooooorrrrrrssssss\
ssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// `c` as the list compares it.
fn fold(c: char) -> char {
    let code = c as u32;
    match code {
        0x41..=0x5A => (code as u8 + 32) as char,
        0xC0..=0x17F => match LATIN_BASE[(code - 0xC0) as usize] {
            b'.' => c,
            base => base as char,
        },
        // Greek capitals, and the final sigma.
        0x391..=0x3A9 => char::from_u32(code + 0x20).unwrap_or(c),
        0x3C2 => 'σ',
        // Cyrillic capitals: Ѐ to Џ, then А to Я.
        0x400..=0x40F => char::from_u32(code + 0x50).unwrap_or(c),
        0x410..=0x42F => char::from_u32(code + 0x20).unwrap_or(c),
        _ => c,
    }
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
    fn greek_and_cyrillic_ignore_case_and_accented_greek_keeps_its_code_point() {
        assert_eq!(sorted(&["Ωμέγα", "άλφα", "Борис", "анна", "Βήτα"]), ["άλφα", "Βήτα", "Ωμέγα", "анна", "Борис"]);
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

    #[test]
    fn equal_names_still_have_an_order() {
        let a = User { id: 1, name: "ann".into() };
        let b = User { id: 2, name: "ann".into() };
        assert_eq!(by_name(&a, &b), Ordering::Less);
        assert_eq!(by_name(&b, &a), Ordering::Greater);
        assert_eq!(by_name(&a, &a), Ordering::Equal);
    }
}
