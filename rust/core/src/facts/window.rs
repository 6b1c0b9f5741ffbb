//! Windows: the spans of a document inside which a subject and an object must both be found for
//! a knowledge-base fact to count as mentioned.
//!
//! - [`Window::Document`]: the whole document.
//! - [`Window::Paragraph`]: paragraphs are separated by blank lines: every maximal run of
//!   whitespace that contains two or more `\n` separates two paragraphs.
//! - [`Window::Line`]: the text between `\n` characters (a `\r` before it is just a non-word
//!   character).
//! - [`Window::Sentence`]: each paragraph is split after every sentence end: a run of `.`, `!`
//!   or `?`, optionally followed by closing quotes or brackets (`"` `'` `)` `]` `’` `”`), that is
//!   followed by whitespace or by the end of the paragraph. Single line breaks do not end a
//!   sentence (hard-wrapped text keeps its sentences), blank lines do. "Mr. Smith" is two
//!   sentences: there is no abbreviation list.
//! - [`Window::Tokens`]`(k)`: word tokens are maximal runs of alphanumeric characters; the token
//!   position of a surface-form occurrence is the number of tokens that start before it (its own
//!   index when it starts at a word). Around each occurrence of a subject, the window holds every
//!   occurrence whose token position differs by at most `k`.
//!
//! Windows of the first four kinds are searched independently: an occurrence never spans two
//! windows. Tokens windows are taken from one search of the whole document.

use super::FactError;

/// Where a subject and an object must both be found; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// Sentence ends (`.`, `!`, `?` then whitespace) and blank lines split.
    Sentence,
    /// Every `\n` splits.
    Line,
    /// Blank lines split.
    Paragraph,
    /// The whole document is one window.
    Document,
    /// Occurrences whose word-token positions differ by at most `k` (`k >= 1`).
    Tokens(usize),
}

impl Window {
    /// Checks the window before any scanning starts.
    pub fn validate(self) -> Result<Self, FactError> {
        match self {
            Window::Tokens(0) => Err(FactError::ZeroTokenWindow),
            w => Ok(w),
        }
    }

    /// Parses `sentence`, `line`, `paragraph`, `document` or `tokens:K` (also `tokens=K`).
    pub fn parse(text: &str) -> Result<Self, FactError> {
        let lower = text.trim().to_ascii_lowercase();
        let window = match lower.as_str() {
            "sentence" => Window::Sentence,
            "line" => Window::Line,
            "paragraph" => Window::Paragraph,
            "document" | "doc" => Window::Document,
            other => {
                let k = other
                    .strip_prefix("tokens:")
                    .or_else(|| other.strip_prefix("tokens="))
                    .and_then(|k| k.trim().parse::<usize>().ok())
                    .ok_or_else(|| FactError::UnknownWindow(text.to_string()))?;
                Window::Tokens(k)
            }
        };
        window.validate()
    }
}

/// Calls `f` with the byte range of every window of `text` (for `Tokens`, the whole text).
pub(crate) fn for_each_window(window: Window, text: &str, mut f: impl FnMut(usize, usize)) {
    match window {
        Window::Document | Window::Tokens(_) => f(0, text.len()),
        Window::Line => {
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', text.as_bytes()) {
                f(start, nl);
                start = nl + 1;
            }
            f(start, text.len());
        }
        Window::Paragraph => paragraphs(text, f),
        Window::Sentence => paragraphs(text, |start, end| sentences(text, start, end, &mut f)),
    }
}

#[inline]
fn is_space_at(text: &str, i: usize) -> Option<(bool, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((b.is_ascii_whitespace() || b == 0x0b, 1));
    }
    let c = text[i..].chars().next()?;
    Some((c.is_whitespace(), c.len_utf8()))
}

#[inline]
fn is_space_before(text: &str, i: usize) -> Option<(bool, usize)> {
    let c = text[..i].chars().next_back()?;
    Some((c.is_whitespace(), c.len_utf8()))
}

/// Paragraph ranges: separators are maximal whitespace runs holding at least two `\n`.
fn paragraphs(text: &str, mut f: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut search = 0;
    while let Some(off) = memchr::memchr(b'\n', &bytes[search..]) {
        let nl = search + off;
        // Extend the whitespace run around this newline.
        let mut run_start = nl;
        while run_start > start {
            match is_space_before(text, run_start) {
                Some((true, len)) => run_start -= len,
                _ => break,
            }
        }
        let mut run_end = nl + 1;
        let mut newlines = 1;
        while let Some((true, len)) = is_space_at(text, run_end) {
            if bytes[run_end] == b'\n' {
                newlines += 1;
            }
            run_end += len;
        }
        if newlines >= 2 {
            f(start, run_start);
            start = run_end;
        }
        search = run_end.max(nl + 1);
    }
    f(start, text.len());
}

#[inline]
fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '\u{2019}' | '\u{201d}')
}

/// Sentence ranges inside the paragraph `text[start..end]`.
fn sentences(text: &str, start: usize, end: usize, f: &mut impl FnMut(usize, usize)) {
    let para = &text[start..end];
    let bytes = para.as_bytes();
    let mut sentence_start = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr3(b'.', b'!', b'?', &bytes[i..]) {
        let mut j = i + off + 1;
        while j < bytes.len() && matches!(bytes[j], b'.' | b'!' | b'?') {
            j += 1;
        }
        while let Some(c) = para[j..].chars().next() {
            if is_closer(c) {
                j += c.len_utf8();
            } else {
                break;
            }
        }
        let ends = match is_space_at(para, j) {
            None => true,
            Some((space, _)) => space,
        };
        if ends {
            f(start + sentence_start, start + j);
            sentence_start = j;
        }
        i = j;
    }
    if sentence_start < bytes.len() || bytes.is_empty() {
        f(start + sentence_start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(w: Window, text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_window(w, text, |s, e| out.push(&text[s..e]));
        out
    }

    #[test]
    fn sentences_split_on_terminators_and_blank_lines() {
        let text = "He went. She said \"no!\" Then?? ok\nstill one.\n\nNew para. 3.5 stays";
        assert_eq!(
            windows(Window::Sentence, text),
            vec![
                "He went.",
                " She said \"no!\"",
                " Then??",
                " ok\nstill one.",
                "New para.",
                " 3.5 stays"
            ]
        );
    }

    #[test]
    fn paragraphs_and_lines() {
        let text = "a\nb\n \t\nc\n\n\nd";
        assert_eq!(windows(Window::Paragraph, text), vec!["a\nb", "c", "d"]);
        assert_eq!(
            windows(Window::Line, text),
            vec!["a", "b", " \t", "c", "", "", "d"]
        );
        assert_eq!(windows(Window::Document, text), vec![text]);
    }

    #[test]
    fn parse_windows() {
        assert_eq!(Window::parse("Sentence").ok(), Some(Window::Sentence));
        assert_eq!(Window::parse("tokens:5").ok(), Some(Window::Tokens(5)));
        assert!(matches!(
            Window::parse("tokens:0"),
            Err(FactError::ZeroTokenWindow)
        ));
        assert!(matches!(
            Window::parse("chapter"),
            Err(FactError::UnknownWindow(_))
        ));
    }
}
