//! What search indexes and looks for, the same on every backend: a
//! message's text with each run of Chinese or Japanese characters written
//! as its overlapping pairs and its last character alone (`你好世界` is
//! indexed `你好 好世 世界 界`), as Lucene's CJK analyzer does, and a query
//! word as the phrase of tokens it must match, perhaps as a prefix.
//!
//! Word-splitting indexes take a run of such characters for one word, so
//! `你好` would never be found inside `你好世界`; written as pairs, it is.
//! A single character is a prefix (`界` finds the pair `界面`); so is a
//! Latin word of a few letters (`hel` finds `hello`). How a backend writes
//! a phrase and a prefix is its own (`sqlite::search`, `postgres::search`).

/// Latin words shorter than this are matched whole, not as a prefix: a
/// prefix of one or two letters would merge a large part of the index.
const MIN_PREFIX_CHARS: usize = 3;

/// Whether `c` is written without spaces between words: Chinese,
/// Japanese kana, Korean syllables.
fn unspaced(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}'
        | '\u{ac00}'..='\u{d7af}' | '\u{20000}'..='\u{2ffff}')
}

/// `text` as the index reads it: each run of unspaced characters as its
/// overlapping pairs and its last character. A `query` leaves that last
/// character out of a run that ends it (the run may go on in a message:
/// `你好` is in `你好世界`, whose tokens after `你好` are `好世`), unless it
/// is the run's only one.
pub(super) fn indexed(text: &str, query: bool) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut String, ends_text: bool| {
        if run.is_empty() {
            return;
        }
        out.push(' ');
        for pair in run.windows(2) {
            out.extend(pair);
            out.push(' ');
        }
        if run.len() == 1 || !(query && ends_text) {
            out.push(run[run.len() - 1]);
        }
        out.push(' ');
        run.clear();
    };
    for c in text.chars() {
        if unspaced(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out, false);
            out.push(c);
        }
    }
    flush(&mut run, &mut out, true);
    out
}

/// `text` with case and accents folded away (`Café` is `cafe`), for an
/// index that does not fold them itself (PostgreSQL's `simple`
/// configuration lowercases, but keeps accents). Unspaced characters stay
/// as they are: decomposing a Korean syllable would split its pairs.
pub(super) fn folded(text: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if unspaced(c) {
            out.push(c);
        } else {
            out.extend(std::iter::once(c).nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase));
        }
    }
    out
}

/// One query word as the index must hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Term {
    /// Space-separated in the message's text (`indexed`), one after another.
    pub tokens: Vec<String>,
    /// Whether the last token may go on (`"界"*`, `"hel"*`).
    pub prefix: bool,
}

/// The terms a message must hold every one of to match `words`.
pub(super) fn terms(words: &[String]) -> Vec<Term> {
    words
        .iter()
        .map(|word| {
            let tokens: Vec<String> = indexed(word, true).split_whitespace().map(str::to_owned).collect();
            let last = tokens.last().map(String::as_str).unwrap_or_default();
            let ends_in_one = last.chars().count() == 1 && last.chars().all(unspaced);
            let latin = tokens.len() == 1 && !last.chars().any(unspaced) && last.chars().count() >= MIN_PREFIX_CHARS;
            Term { prefix: ends_in_one || latin, tokens }
        })
        .filter(|term| !term.tokens.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspaced_runs_are_indexed_as_pairs() {
        assert_eq!(
            indexed("hi 你好世界!", false).split_whitespace().collect::<Vec<_>>(),
            ["hi", "你好", "好世", "世界", "界", "!"]
        );
        assert_eq!(indexed("你好", true).split_whitespace().collect::<Vec<_>>(), ["你好"]);
        assert_eq!(indexed("界", true).split_whitespace().collect::<Vec<_>>(), ["界"]);
        // A run inside a word keeps its last character, as in a message.
        assert_eq!(indexed("东京2024", true).split_whitespace().collect::<Vec<_>>(), ["东京", "京", "2024"]);
    }

    #[test]
    fn words_become_phrases_some_of_them_prefixes() {
        let term = |tokens: &[&str], prefix| Term { tokens: tokens.iter().map(|t| t.to_string()).collect(), prefix };
        let words = |w: &[&str]| terms(&w.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        assert_eq!(words(&["你好世"]), [term(&["你好", "好世"], false)]);
        assert_eq!(words(&["界", "Hel"]), [term(&["界"], true), term(&["Hel"], true)]);
        assert_eq!(words(&["a你"]), [term(&["a", "你"], true)], "a word ending in one character goes on");
        assert_eq!(words(&["ab"]), [term(&["ab"], false)], "two letters are a whole word");
        assert_eq!(words(&[]), []);
    }

    #[test]
    fn folding_drops_case_and_accents_but_keeps_cjk() {
        assert_eq!(folded("Café CRÈME ñ"), "cafe creme n");
        assert_eq!(folded("你好 한국어 Ünïcode"), "你好 한국어 unicode");
    }
}
