//! Tokenizers: turn a document's text into token byte strings.
//!
//! Tokenizers hand each token to a callback as a byte slice, borrowed from the text when no
//! normalization is needed, from a scratch buffer when lowercasing rewrites it. Nothing is
//! allocated per token: the hot loop of counting is tokenize -> intern, and both stay in cache.
//!
//! - `Whitespace` splits on ASCII spaces, tabs, CR, VT, FF and NUL, as KenLM does
//!   (`util::kSpaces`). Tokens are kept byte for byte.
//! - `Words` is Unicode-aware: a word is a maximal run of alphanumeric characters (any script),
//!   underscores and combining marks; every other non-space character (punctuation, symbols,
//!   apostrophes) is a token of its own, and so is each CJK ideograph or kana (those scripts do
//!   not separate words by spaces). Unicode white space separates. `lowercase` applies Unicode
//!   lowercasing.

use crate::error::{CoreError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokenizer {
    Whitespace,
    Words { lowercase: bool },
}

impl Tokenizer {
    /// Parse a tokenizer name as the Python API and CLI spell it.
    pub fn from_name(name: &str, lowercase: bool) -> Result<Self> {
        match name {
            "whitespace" => {
                if lowercase {
                    Err(CoreError::config(
                        "lowercase=True needs tokenizer=\"words\"; the whitespace tokenizer keeps \
                         tokens byte for byte, as KenLM does",
                    ))
                } else {
                    Ok(Tokenizer::Whitespace)
                }
            }
            "words" => Ok(Tokenizer::Words { lowercase }),
            other => Err(CoreError::config(format!(
                "unknown tokenizer {other:?}; choose \"words\" or \"whitespace\""
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Tokenizer::Whitespace => "whitespace",
            Tokenizer::Words { .. } => "words",
        }
    }

    pub fn lowercase(&self) -> bool {
        matches!(self, Tokenizer::Words { lowercase: true })
    }

    /// Call `emit` with every token of `text`, in order.
    #[inline]
    pub fn tokenize(&self, text: &str, scratch: &mut Vec<u8>, emit: impl FnMut(&[u8])) {
        match *self {
            Tokenizer::Whitespace => whitespace(text.as_bytes(), emit),
            Tokenizer::Words { lowercase } => words(text, lowercase, scratch, emit),
        }
    }
}

/// Bytes KenLM treats as token separators (the definition `space_bits` computes in bulk).
#[cfg(test)]
fn is_kenlm_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c | 0)
}

/// Splits on KenLM's separators 64 bytes at a time: a bit mask of the separators (8 bytes per
/// SWAR step) turns the byte loop, whose exit branch mispredicts at nearly every token end, into
/// one count-trailing-zeros per token boundary.
#[inline]
fn whitespace(bytes: &[u8], mut emit: impl FnMut(&[u8])) {
    let mut in_token = false;
    let mut start = 0;
    // Separator-ness of the byte before the current chunk (1 = separator).
    let mut prev_space = 1u64;
    let mut base = 0;
    let mut chunks = bytes.chunks_exact(64);
    let mut step = |mask: u64, base: usize, prev_space: &mut u64| {
        // Bit i set where byte i starts a token or starts a separator run.
        let mut t = mask ^ ((mask << 1) | *prev_space);
        *prev_space = mask >> 63;
        while t != 0 {
            let i = base + t.trailing_zeros() as usize;
            if in_token {
                emit(&bytes[start..i]);
            } else {
                start = i;
            }
            in_token = !in_token;
            t &= t - 1;
        }
    };
    for chunk in chunks.by_ref() {
        step(space_mask(chunk), base, &mut prev_space);
        base += 64;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut padded = [b' '; 64];
        padded[..rest.len()].copy_from_slice(rest);
        step(space_mask(&padded), base, &mut prev_space);
    }
    if in_token {
        emit(&bytes[start..]);
    }
}

/// Bit i set when `chunk[i]` is a KenLM separator (`chunk` is 64 bytes).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn space_mask(chunk: &[u8]) -> u64 {
    // SSE2 (always present on x86_64): 16 bytes per compare, a quarter of the SWAR steps.
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x, _mm_setzero_si128, _mm_sub_epi8,
    };
    let mut mask = 0u64;
    for (k, w) in chunk.chunks_exact(16).enumerate() {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&w[..8]);
        hi.copy_from_slice(&w[8..]);
        // SAFETY: these intrinsics only need SSE2, which every x86_64 CPU has (it is part of
        // the target's baseline); they read no memory.
        let bits = unsafe {
            let v = _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo));
            let nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
            let space = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x20));
            // 9 <= b <= 13 exactly when (b - 9) wraps to at most 4.
            let t = _mm_sub_epi8(v, _mm_set1_epi8(9));
            let ctrl = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(nul, space), ctrl))
        };
        mask |= (bits as u32 as u64 & 0xffff) << (16 * k);
    }
    mask
}

/// Bit i set when `chunk[i]` is a KenLM separator (`chunk` is 64 bytes).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn space_mask(chunk: &[u8]) -> u64 {
    space_mask_swar(chunk)
}

/// [`space_mask`] in portable SWAR steps of 8 bytes.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn space_mask_swar(chunk: &[u8]) -> u64 {
    let mut mask = 0u64;
    for (k, w) in chunk.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        mask |= space_bits(u64::from_le_bytes(b)) << (8 * k);
    }
    mask
}

/// The separators among 8 bytes (little-endian in `w`) as an 8-bit mask, byte 0 in bit 0.
#[inline(always)]
fn space_bits(w: u64) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // High bit of each byte set where that byte of x is zero (exact, no carries across bytes).
    let zero = |x: u64| !(((x & LO7) + LO7) | x) & HI;
    let low = w & LO7;
    // 9 <= byte <= 13, for bytes below 0x80: (low | 0x80) - k keeps the high bit iff low >= k.
    let ge9 = ((low | HI) - 9 * ONES) & HI;
    let ge14 = ((low | HI) - 14 * ONES) & HI;
    let ascii = !w & HI;
    let sep = zero(w) | zero(w ^ (0x20 * ONES)) | (ge9 & !ge14 & ascii);
    // Gather the 8 high bits into the low byte: bit 7 of byte k moves to bit 56 + k, then down.
    ((sep >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

const SPACE: u8 = 0;
const WORD: u8 = 1;
const PUNCT: u8 = 2;
const NON_ASCII: u8 = 3;

static ASCII_CLASS: [u8; 256] = {
    let mut table = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || c == b'_' {
            WORD
        } else if c == b' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0 {
            SPACE
        } else {
            PUNCT
        };
        b += 1;
    }
    table
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Space,
    Word,
    /// A token of its own (punctuation, symbol, ideograph).
    Single,
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C | 0x200D | 0x20D0..=0x20FF | 0xFE00..=0xFE0F
        | 0xFE20..=0xFE2F)
}

fn is_ideographic(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn classify(c: char) -> Class {
    if c.is_whitespace() {
        Class::Space
    } else if is_ideographic(c) {
        Class::Single
    } else if c.is_alphanumeric() || is_combining_mark(c) {
        Class::Word
    } else {
        Class::Single
    }
}

fn push_lower(c: char, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4];
    for l in c.to_lowercase() {
        out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
    }
}

#[inline]
fn words(text: &str, lowercase: bool, scratch: &mut Vec<u8>, mut emit: impl FnMut(&[u8])) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        match ASCII_CLASS[bytes[i] as usize] {
            SPACE => {
                i += 1;
                continue;
            }
            PUNCT => {
                emit(&bytes[i..i + 1]);
                i += 1;
                continue;
            }
            NON_ASCII => {
                // `text` is valid UTF-8 and `i` is a char boundary, so a char is there.
                let Some(c) = text[i..].chars().next() else {
                    break;
                };
                match classify(c) {
                    Class::Space => {
                        i += c.len_utf8();
                        continue;
                    }
                    Class::Single => {
                        let end = i + c.len_utf8();
                        emit_normalized(&text[i..end], lowercase, false, scratch, &mut emit);
                        i = end;
                        continue;
                    }
                    Class::Word => {}
                }
            }
            _ => {}
        }
        // A word starts at `i`.
        let start = i;
        let mut ascii_only = true;
        let mut has_upper = false;
        while i < n {
            let b = bytes[i];
            match ASCII_CLASS[b as usize] {
                WORD => {
                    has_upper |= b.is_ascii_uppercase();
                    i += 1;
                }
                NON_ASCII => {
                    let Some(c) = text[i..].chars().next() else {
                        break;
                    };
                    if classify(c) != Class::Word {
                        break;
                    }
                    ascii_only = false;
                    i += c.len_utf8();
                }
                _ => break,
            }
        }
        let token = &text[start..i];
        if !lowercase || (ascii_only && !has_upper) {
            emit(token.as_bytes());
        } else {
            emit_normalized(token, lowercase, ascii_only, scratch, &mut emit);
        }
    }
}

#[inline]
fn emit_normalized(
    token: &str,
    lowercase: bool,
    ascii_only: bool,
    scratch: &mut Vec<u8>,
    emit: &mut impl FnMut(&[u8]),
) {
    if !lowercase {
        emit(token.as_bytes());
        return;
    }
    scratch.clear();
    if ascii_only {
        scratch.extend(token.bytes().map(|b| b.to_ascii_lowercase()));
    } else {
        for c in token.chars() {
            push_lower(c, scratch);
        }
    }
    emit(scratch);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(t: Tokenizer, s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        t.tokenize(s, &mut scratch, |b| {
            out.push(String::from_utf8(b.to_vec()).unwrap())
        });
        out
    }

    #[test]
    fn whitespace_like_kenlm() {
        assert_eq!(toks(Tokenizer::Whitespace, " a\tb  c\r"), ["a", "b", "c"]);
        assert_eq!(toks(Tokenizer::Whitespace, "Straße, x"), ["Straße,", "x"]);
        assert!(toks(Tokenizer::Whitespace, "  \t ").is_empty());
    }

    /// The SWAR splitter equals the byte loop on every byte value, token lengths and positions
    /// around the 64-byte chunk boundaries.
    /// The SSE2 mask equals the SWAR mask for every byte value at every position.
    #[test]
    fn space_mask_equals_swar() {
        for c in 0..=255u8 {
            for pos in 0..64 {
                let mut chunk = [b'a'; 64];
                chunk[pos] = c;
                chunk[(pos + 17) % 64] = c.wrapping_add(1);
                assert_eq!(
                    space_mask(&chunk),
                    space_mask_swar(&chunk),
                    "{c:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn whitespace_equals_byte_loop() {
        fn reference(b: &[u8]) -> Vec<&[u8]> {
            b.split(|&c| is_kenlm_space(c))
                .filter(|t| !t.is_empty())
                .collect()
        }
        for c in 0..=255u8 {
            let mask = space_bits(u64::from_le_bytes([c; 8]));
            assert_eq!(
                mask,
                if is_kenlm_space(c) { 0xff } else { 0 },
                "byte {c:#x}"
            );
        }
        let alphabet = [
            b'a', b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r', 0, 0x1f, 0x21, 0x08, 0x0e, 0xc3, 0xa9,
            0x80, 0xff, 0xa0,
        ];
        let mut x = 0x1234_5678_9abc_def0u64;
        for len in 0..300 {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Mostly word bytes, so tokens get long enough to cross chunks.
                        if x % 4 == 0 {
                            alphabet[(x >> 8) as usize % alphabet.len()]
                        } else {
                            b'w'
                        }
                    })
                    .collect();
                let mut got = Vec::new();
                whitespace(&bytes, |t| got.push(t.to_vec()));
                let want: Vec<Vec<u8>> = reference(&bytes).iter().map(|t| t.to_vec()).collect();
                assert_eq!(got, want, "{bytes:?}");
            }
        }
    }

    #[test]
    fn words_split_punctuation() {
        let t = Tokenizer::Words { lowercase: false };
        assert_eq!(
            toks(t, "In the beginning, God's."),
            ["In", "the", "beginning", ",", "God", "'", "s", "."]
        );
        assert_eq!(toks(t, "naïve café—ok"), ["naïve", "café", "—", "ok"]);
        assert_eq!(toks(t, "日本語 text"), ["日", "本", "語", "text"]);
        assert_eq!(toks(t, "a\u{00a0}b"), ["a", "b"]);
        assert_eq!(toks(t, "e\u{0301}t\u{00e9}"), ["e\u{0301}t\u{00e9}"]);
        assert_eq!(toks(t, "«x»"), ["«", "x", "»"]);
    }

    #[test]
    fn words_lowercase() {
        let t = Tokenizer::Words { lowercase: true };
        assert_eq!(
            toks(t, "The ÉCOLE, Straße"),
            ["the", "école", ",", "straße"]
        );
        assert_eq!(toks(t, "ΣΟΦΙΑ"), ["σοφια"]);
    }
}
