//! Rich text, rendered at display from the stored plain text: a Markdown
//! lite. `**bold**`, `*italic*` or `_italic_`, `~~struck~~`, `` `code` ``,
//! fenced code blocks (```` ``` ````), `> quotes`, `- lists` and `1. lists`,
//! line breaks as written, `http(s)://` addresses linked, and emoji
//! shortcodes (`:tada:`).
//!
//! One pure function, [`to_html`], the same in the server's render and in
//! the browser, so both show exactly the same markup (and hydration finds
//! what it expects). It is written here rather than taken from a CommonMark
//! crate: the subset is small, and a full parser would cost the browser
//! bundle tens of kilobytes (docs/performance.md, finding 42).
//!
//! Safety is by construction: every character of the text reaches the
//! markup through [`escape`], and the only tags written are the fixed
//! ones below. Raw HTML in a message is always text. Links are only ever
//! `http://` or `https://` (so never `javascript:`), and carry
//! `rel="noopener noreferrer nofollow ugc"`.

/// How deep emphasis may nest (`**_~~x~~_**` is three): deeper is text.
const MAX_DEPTH: usize = 4;

/// Emoji by shortcode, sorted by name (looked up by binary search).
const SHORTCODES: &[(&str, &str)] = &[
    ("+1", "👍"),
    ("-1", "👎"),
    ("100", "💯"),
    ("clap", "👏"),
    ("coffee", "☕"),
    ("cry", "😢"),
    ("eyes", "👀"),
    ("fire", "🔥"),
    ("grin", "😁"),
    ("heart", "❤️"),
    ("joy", "😂"),
    ("laughing", "😆"),
    ("ok_hand", "👌"),
    ("party", "🥳"),
    ("pray", "🙏"),
    ("rocket", "🚀"),
    ("sad", "😞"),
    ("smile", "😄"),
    ("sob", "😭"),
    ("sparkles", "✨"),
    ("star", "⭐"),
    ("tada", "🎉"),
    ("thinking", "🤔"),
    ("thumbsdown", "👎"),
    ("thumbsup", "👍"),
    ("warning", "⚠️"),
    ("wave", "👋"),
    ("white_check_mark", "✅"),
    ("wink", "😉"),
    ("x", "❌"),
];

/// `text` as markup: blocks (paragraphs, code blocks, quotes, lists) of
/// inline runs. Every character of `text` is escaped.
pub fn to_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + text.len() / 4);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        if let Some(opening) = fenced(line) {
            at = code_block_into(&mut html, &lines, at, opening);
        } else if quoted(line).is_some() {
            let end = run_end(&lines, at, |line| quoted(line).is_some());
            html.push_str("<blockquote>");
            lines_into(&mut html, lines[at..end].iter().filter_map(|line| quoted(line)));
            html.push_str("</blockquote>");
            at = end;
        } else if bullet(line).is_some() || numbered(line).is_some() {
            let ordered = numbered(line).is_some();
            let item = if ordered { numbered } else { bullet };
            let end = run_end(&lines, at, |line| item(line).is_some());
            match start_of(line) {
                // Only digits: nothing to escape.
                Some(start) if ordered && start != 1 => html.push_str(&format!("<ol start=\"{start}\">")),
                _ => html.push_str(if ordered { "<ol>" } else { "<ul>" }),
            }
            for line in &lines[at..end] {
                html.push_str("<li>");
                inline_into(&mut html, item(line).unwrap_or_default(), 0);
                html.push_str("</li>");
            }
            html.push_str(if ordered { "</ol>" } else { "</ul>" });
            at = end;
        } else if line.trim().is_empty() {
            at += 1;
        } else {
            let end = run_end(&lines, at, |line| {
                !line.trim().is_empty()
                    && fenced(line).is_none()
                    && quoted(line).is_none()
                    && bullet(line).is_none()
                    && numbered(line).is_none()
            });
            html.push_str("<p>");
            lines_into(&mut html, lines[at..end].iter().copied());
            html.push_str("</p>");
            at = end;
        }
    }
    html
}

/// A fence's line without its ```` ``` ````.
fn fenced(line: &str) -> Option<&str> {
    line.trim_start().strip_prefix("```")
}

/// The code block whose opening fence is `lines[at]` (`opening`, the rest
/// of its line): to its closing fence or the end. On the opening line, a
/// single word is the language's name (not shown), and anything else is
/// code, up to a closing fence on the same line; after a closing fence,
/// the rest of its line is a paragraph. Returns the line after it.
fn code_block_into(html: &mut String, lines: &[&str], at: usize, opening: &str) -> usize {
    let mut code: Vec<&str> = Vec::new();
    let mut after = "";
    let mut next = at + 1;
    if let Some((inside, rest)) = opening.split_once("```") {
        code.push(inside);
        after = rest;
    } else {
        let label = !opening.trim().contains(char::is_whitespace);
        if !label {
            code.push(opening);
        }
        while next < lines.len() {
            let line = lines[next];
            next += 1;
            match fenced(line) {
                Some(rest) => {
                    after = rest;
                    break;
                }
                None => code.push(line),
            }
        }
    }
    html.push_str("<pre><code>");
    for (n, line) in code.iter().enumerate() {
        if n > 0 {
            html.push('\n');
        }
        escape_into(html, line);
    }
    html.push_str("</code></pre>");
    if !after.trim().is_empty() {
        html.push_str("<p>");
        inline_into(html, after.trim(), 0);
        html.push_str("</p>");
    }
    next
}

/// Where the run of lines from `at` that `keep` keeps ends.
fn run_end(lines: &[&str], at: usize, keep: impl Fn(&str) -> bool) -> usize {
    let mut end = at;
    while end < lines.len() && keep(lines[end]) {
        end += 1;
    }
    end
}

/// Lines of one block, a line break between each.
fn lines_into<'a>(html: &mut String, lines: impl Iterator<Item = &'a str>) {
    for (n, line) in lines.enumerate() {
        if n > 0 {
            html.push_str("<br>");
        }
        inline_into(html, line, 0);
    }
}

/// A quote's line without its `> ` (or a `>` alone): `>_<` is a face.
fn quoted(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('>')?;
    if rest.is_empty() {
        return Some(rest);
    }
    rest.strip_prefix(' ')
}

/// A bulleted item's text (`- `, `* `, `+ `).
fn bullet(line: &str) -> Option<&str> {
    ["- ", "* ", "+ "].iter().find_map(|mark| line.strip_prefix(mark)).filter(|rest| !rest.trim().is_empty())
}

/// The number a numbered item starts with.
fn start_of(line: &str) -> Option<u32> {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    line[..digits].parse().ok()
}

/// A numbered item's text (`1. `, `2) `).
fn numbered(line: &str) -> Option<&str> {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 3 {
        return None;
    }
    let rest = &line[digits..];
    rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")).filter(|rest| !rest.trim().is_empty())
}

/// One line's inline runs: code, links, emphasis, shortcodes, text.
fn inline_into(html: &mut String, text: &str, depth: usize) {
    let mut plain_from = 0;
    let mut at = 0;
    // The character before `at`: `_` and links care what they follow.
    let mut before: Option<char> = None;
    while at < text.len() {
        let here = &text[at..];
        if let Some((markup, used)) = special(here, before, depth) {
            escape_into(html, &text[plain_from..at]);
            html.push_str(&markup);
            before = here[..used].chars().last();
            at += used;
            plain_from = at;
            continue;
        }
        let Some(next) = here.chars().next() else { break };
        before = Some(next);
        at += next.len_utf8();
    }
    escape_into(html, &text[plain_from..]);
}

/// The markup for what starts `here`, and how many bytes it took: a code
/// span, a link, emphasis or a shortcode; `None` for plain text.
fn special(here: &str, before: Option<char>, depth: usize) -> Option<(String, usize)> {
    let first = here.chars().next()?;
    match first {
        '`' => {
            let close = here[1..].find('`')? + 1;
            (close > 1).then(|| {
                let mut html = String::from("<code>");
                escape_into(&mut html, &here[1..close]);
                html.push_str("</code>");
                (html, close + 1)
            })
        }
        'h' if before.is_none_or(|c| !c.is_ascii_alphanumeric()) => link(here),
        ':' if before.is_none_or(|c| !c.is_alphanumeric() && c != ':') => {
            let close = here[1..].find(':')? + 1;
            let name = &here[1..close];
            let found = SHORTCODES.binary_search_by(|(code, _)| code.cmp(&name)).ok()?;
            let glued = here[close + 1..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == ':');
            (!glued).then(|| (SHORTCODES[found].1.to_owned(), close + 1))
        }
        '*' | '_' | '~' if depth < MAX_DEPTH => emphasis(here, before, depth),
        _ => None,
    }
}

/// `http://…` or `https://…` up to a space, less the punctuation that ends
/// a sentence around it.
fn link(here: &str) -> Option<(String, usize)> {
    if !(here.starts_with("http://") || here.starts_with("https://")) {
        return None;
    }
    // An address is ASCII: it ends at a space or at the first other
    // character (`见 https://a.b，谢谢` links `https://a.b`).
    let mut end = here.find(|c: char| c.is_whitespace() || !c.is_ascii()).unwrap_or(here.len());
    while let Some(last) = here[..end].chars().last() {
        let unmatched_paren = last == ')' && here[..end].matches('(').count() < here[..end].matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | ']' | '>' | '<') || unmatched_paren {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    let address = &here[..end];
    let scheme_only = address.trim_start_matches("https://").trim_start_matches("http://").is_empty();
    if scheme_only {
        return None;
    }
    let mut html = String::from("<a href=\"");
    escape_into(&mut html, address);
    html.push_str("\" rel=\"noopener noreferrer nofollow ugc\" target=\"_blank\">");
    escape_into(&mut html, address);
    html.push_str("</a>");
    Some((html, end))
}

/// `**strong**`, `*em*`, `_em_` or `~~del~~`: opened before a non-space,
/// closed after one; `_` never inside a word (`snake_case_names`).
fn emphasis(here: &str, before: Option<char>, depth: usize) -> Option<(String, usize)> {
    let (mark, tag) = if here.starts_with("**") {
        ("**", "strong")
    } else if here.starts_with("~~") {
        ("~~", "del")
    } else if here.starts_with('*') {
        ("*", "em")
    } else if here.starts_with('_') {
        ("_", "em")
    } else {
        return None;
    };
    // A single `_` or `*` never inside a word or a run of them
    // (`snake_case`, `__init__`, `2*3*4`, `src/**/*.rs`, `**kwargs`).
    let single = mark == "_" || mark == "*";
    let glyph = mark.chars().next().unwrap_or('*');
    if single && (before.is_some_and(|c| c.is_alphanumeric() || c == glyph) || here[1..].starts_with(glyph)) {
        return None;
    }
    let inner_start = mark.len();
    if here[inner_start..].chars().next().is_none_or(char::is_whitespace) {
        return None;
    }
    // The first closing mark after a non-space, not glued to a word for `_`.
    let mut search = inner_start;
    loop {
        let found = here[search..].find(mark)? + search;
        let closes = here[..found].chars().last().is_some_and(|c| !c.is_whitespace())
            && found > inner_start
            && (!single
                || (!here[..found].ends_with(glyph)
                    && here[found + 1..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != glyph)))
            // `**` closes at the end of a run of three (`***both***`).
            && !(mark == "**" && here[found + 2..].starts_with('*'));
        if closes {
            let mut html = format!("<{tag}>");
            inline_into(&mut html, &here[inner_start..found], depth + 1);
            html.push_str(&format!("</{tag}>"));
            return Some((html, found + mark.len()));
        }
        search = found + 1;
    }
}

/// Appends `text` with `&<>"'` escaped.
fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_a_paragraph_with_its_line_breaks() {
        assert_eq!(to_html("hello"), "<p>hello</p>");
        assert_eq!(to_html("one\ntwo\r\nthree"), "<p>one<br>two<br>three</p>");
        assert_eq!(to_html("one\n\ntwo"), "<p>one</p><p>two</p>");
        assert_eq!(to_html("你好，世界"), "<p>你好，世界</p>");
    }

    #[test]
    fn emphasis_code_and_strikethrough() {
        assert_eq!(
            to_html("**bold** and *it* and _it_"),
            "<p><strong>bold</strong> and <em>it</em> and <em>it</em></p>"
        );
        assert_eq!(to_html("~~gone~~ `x < y`"), "<p><del>gone</del> <code>x &lt; y</code></p>");
        assert_eq!(to_html("**bold _and it_**"), "<p><strong>bold <em>and it</em></strong></p>");
        assert_eq!(to_html("`**not bold**`"), "<p><code>**not bold**</code></p>");
    }

    #[test]
    fn marks_that_close_nothing_stay_text() {
        assert_eq!(to_html("2 * 3 * 4"), "<p>2 * 3 * 4</p>");
        assert_eq!(to_html("2*3*4 and src/**/*.rs"), "<p>2*3*4 and src/**/*.rs</p>");
        assert_eq!(to_html("def f(*args, **kwargs):"), "<p>def f(*args, **kwargs):</p>");
        assert_eq!(to_html("***both***"), "<p><strong><em>both</em></strong></p>");
        assert_eq!(to_html("snake_case_name"), "<p>snake_case_name</p>");
        assert_eq!(to_html("window.__pwned=1 and window.__pwned=2"), "<p>window.__pwned=1 and window.__pwned=2</p>");
        assert_eq!(to_html("__init__ _a_"), "<p>__init__ <em>a</em></p>");
        assert_eq!(to_html("**unclosed"), "<p>**unclosed</p>");
        assert_eq!(to_html("a ` b"), "<p>a ` b</p>");
        assert_eq!(to_html("** spaced **"), "<p>** spaced **</p>");
    }

    #[test]
    fn blocks_code_quotes_and_lists() {
        assert_eq!(to_html("```\nlet x = 1;\n<b>\n```"), "<pre><code>let x = 1;\n&lt;b&gt;</code></pre>");
        assert_eq!(to_html("> said\n> again\nme"), "<blockquote>said<br>again</blockquote><p>me</p>");
        assert_eq!(to_html("- one\n- **two**"), "<ul><li>one</li><li><strong>two</strong></li></ul>");
        assert_eq!(to_html("1. first\n2) second"), "<ol><li>first</li><li>second</li></ol>");
        assert_eq!(to_html("```\nunclosed"), "<pre><code>unclosed</code></pre>");
        assert_eq!(to_html("```npm install```"), "<pre><code>npm install</code></pre>");
        assert_eq!(to_html("```rust\nfn x() {}\n``` and done"), "<pre><code>fn x() {}</code></pre><p>and done</p>");
        assert_eq!(to_html("```cargo run --release\n```"), "<pre><code>cargo run --release</code></pre>");
        assert_eq!(to_html("3. third\n4. fourth"), "<ol start=\"3\"><li>third</li><li>fourth</li></ol>");
        assert_eq!(to_html(">_< oh\n>\n> ok"), "<p>&gt;_&lt; oh</p><blockquote><br>ok</blockquote>");
        assert_eq!(to_html("one\rtwo"), "<p>one<br>two</p>");
    }

    #[test]
    fn addresses_are_linked_and_only_http_ones() {
        let rel = "rel=\"noopener noreferrer nofollow ugc\" target=\"_blank\"";
        assert_eq!(
            to_html("see https://example.com/a?b=1&c=2."),
            format!(
                "<p>see <a href=\"https://example.com/a?b=1&amp;c=2\" {rel}>https://example.com/a?b=1&amp;c=2</a>.</p>"
            )
        );
        assert_eq!(
            to_html("(http://x.org/wiki/A_(b))"),
            format!("<p>(<a href=\"http://x.org/wiki/A_(b)\" {rel}>http://x.org/wiki/A_(b)</a>)</p>")
        );
        assert_eq!(to_html("javascript:alert(1)"), "<p>javascript:alert(1)</p>");
        assert_eq!(to_html("[x](javascript:alert(1))"), "<p>[x](javascript:alert(1))</p>");
        assert_eq!(to_html("https://"), "<p>https://</p>");
        assert_eq!(to_html("xhttps://a.b"), "<p>xhttps://a.b</p>");
        assert_eq!(
            to_html("请看https://a.b/c，谢谢"),
            format!("<p>请看<a href=\"https://a.b/c\" {rel}>https://a.b/c</a>，谢谢</p>")
        );
    }

    #[test]
    fn shortcodes_become_emoji_and_unknown_ones_stay() {
        assert_eq!(to_html(":tada: done :nope:"), "<p>🎉 done :nope:</p>");
        assert_eq!(to_html("at 10:30:00"), "<p>at 10:30:00</p>");
        assert_eq!(to_html("std::x::y and 1:100:2"), "<p>std::x::y and 1:100:2</p>");
        assert_eq!(to_html("(:tada:)"), "<p>(🎉)</p>");
        assert!(SHORTCODES.windows(2).all(|pair| pair[0].0 < pair[1].0), "sorted for the search");
    }

    /// Whatever is typed, no tag but the renderer's own, and no attribute
    /// but its own, comes out.
    #[test]
    fn raw_html_and_script_are_always_text() {
        let corpus = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "\"><svg onload=alert(1)>",
            "**<b>bold</b>**",
            "`</code><script>x</script>`",
            "```\n</code></pre><script>x</script>\n```",
            "> <iframe src=javascript:alert(1)>",
            "- <a href=javascript:alert(1)>x</a>",
            "https://a.b/\"onmouseover=\"alert(1)",
            "https://a.b/<script>",
            "_<i>x</i>_ ~~<s>y</s>~~",
            "&lt;script&gt; stays &amp; as typed",
            "javascript:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>",
        ];
        let allowed = [
            "p",
            "/p",
            "br",
            "strong",
            "/strong",
            "em",
            "/em",
            "del",
            "/del",
            "code",
            "/code",
            "pre",
            "/pre",
            "blockquote",
            "/blockquote",
            "ul",
            "/ul",
            "ol",
            "/ol",
            "li",
            "/li",
            "a",
            "/a",
        ];
        for text in corpus {
            let html = to_html(text);
            for tag in html.split('<').skip(1) {
                let name = tag.split(|c: char| c == '>' || c.is_whitespace()).next().unwrap_or_default();
                assert!(allowed.contains(&name), "{text:?} made <{name}: {html}");
                if name == "a" {
                    let attributes = tag.split('>').next().unwrap_or_default();
                    assert!(attributes.starts_with("a href=\"http"), "{text:?}: {html}");
                    assert_eq!(attributes.matches('"').count(), 6, "{text:?}: only href, rel and target: {html}");
                }
            }
            assert!(!html.contains("javascript:alert") || !html.contains("href=\"javascript"), "{html}");
        }
    }
}
