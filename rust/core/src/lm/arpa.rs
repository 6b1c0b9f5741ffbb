//! ARPA text: writing (parallel formatting, KenLM's number format) and reading (strict, with
//! file and line in every error).
//!
//! Numbers are written as the shortest decimal that reads back to the same `f32` (what lmplz
//! prints through double-conversion), so write -> read -> write is byte-identical. N-grams are
//! written in key order (unigrams in id order, which is lmplz's order for ids from
//! [`super::count_sentences`]).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;

use super::key::{pack, unpack, Key};
use super::model::{Core, Model, OrderTable, Tables, Vocab};
use super::{is_separator, LmError, BOS, EOS, MAX_ORDER, UNK};

/// Appends an `f32` as lmplz prints it: shortest round-trip digits, `0` for zero, plain decimal
/// down to 1e-6, exponent form below.
pub(crate) fn push_f32(out: &mut Vec<u8>, x: f32) {
    if x == 0.0 {
        out.push(b'0');
        return;
    }
    if !x.is_finite() {
        out.extend_from_slice(if x.is_nan() {
            b"nan"
        } else if x > 0.0 {
            b"inf"
        } else {
            b"-inf"
        });
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x).as_bytes();
    if let Some(stripped) = s.strip_suffix(b".0") {
        out.extend_from_slice(stripped);
    } else if let Some(e) = s.iter().position(|&b| b == b'e') {
        // ryu switches to exponent form from 1e-5 down; double-conversion only below 1e-6.
        let (mant, exp) = (&s[..e], &s[e + 1..]);
        if exp == b"-6" {
            let (neg, digits) = match mant.strip_prefix(b"-") {
                Some(m) => (true, m),
                None => (false, mant),
            };
            if neg {
                out.push(b'-');
            }
            out.extend_from_slice(b"0.00000");
            out.extend(digits.iter().filter(|&&b| b != b'.'));
        } else {
            out.extend_from_slice(s);
        }
    } else {
        out.extend_from_slice(s);
    }
}

fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> LmError + '_ {
    move |source| LmError::Io {
        what: what.to_string(),
        source,
    }
}

impl Model {
    /// Writes the model as ARPA text.
    pub fn write_arpa<W: Write>(&self, out: W) -> Result<(), LmError> {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        let c = &self.core;
        let counts = c.counts();
        let mut head = String::from("\\data\\\n");
        for (k, n) in counts.iter().enumerate() {
            head.push_str(&format!("ngram {}={}\n", k + 1, n));
        }
        out.write_all(head.as_bytes())
            .map_err(io_err("ARPA output"))?;
        for k in 1..=c.order {
            out.write_all(format!("\n\\{k}-grams:\n").as_bytes())
                .map_err(io_err("ARPA output"))?;
            match &c.tables {
                Tables::Narrow(t) => write_order(&mut out, &t[k - 1], k, c)?,
                Tables::Wide(t) => write_order(&mut out, &t[k - 1], k, c)?,
            }
        }
        out.write_all(b"\n\\end\\\n")
            .map_err(io_err("ARPA output"))?;
        out.flush().map_err(io_err("ARPA output"))?;
        Ok(())
    }

    /// Writes the model as an ARPA file.
    pub fn write_arpa_file<P: AsRef<Path>>(&self, path: P) -> Result<(), LmError> {
        let path = path.as_ref();
        let f = std::fs::File::create(path).map_err(io_err(&path.display().to_string()))?;
        self.write_arpa(f).map_err(|e| match e {
            LmError::Io { source, .. } => LmError::Io {
                what: path.display().to_string(),
                source,
            },
            e => e,
        })
    }

    /// The ARPA text as a string.
    pub fn to_arpa_string(&self) -> Result<String, LmError> {
        let mut buf = Vec::new();
        self.write_arpa(&mut buf)?;
        String::from_utf8(buf)
            .map_err(|_| LmError::Internal("ARPA output is not UTF-8".to_string()))
    }

    /// Reads an ARPA file.
    pub fn read_arpa_file<P: AsRef<Path>>(path: P) -> Result<Model, LmError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let f = std::fs::File::open(path).map_err(io_err(&name))?;
        Model::read_arpa(BufReader::with_capacity(1 << 20, f), &name)
    }

    /// Reads ARPA text; `source_name` names the input in error messages. A missing `<unk>` is
    /// added with log10 probability -100 (as KenLM does); `<s>` and `</s>` must be present.
    pub fn read_arpa<R: BufRead>(input: R, source_name: &str) -> Result<Model, LmError> {
        ArpaReader {
            input,
            source_name,
            line_no: 0,
            buf: Vec::new(),
        }
        .read()
    }
}

fn write_order<K: Key, W: Write>(
    out: &mut W,
    t: &OrderTable<K, f32>,
    k: usize,
    c: &Core<f32>,
) -> Result<(), LmError> {
    const CHUNK: usize = 1 << 14;
    const BATCH: usize = CHUNK * 64;
    let words = &c.vocab.words;
    for batch_start in (0..t.keys.len()).step_by(BATCH) {
        let batch_end = (batch_start + BATCH).min(t.keys.len());
        let texts: Vec<Vec<u8>> = (batch_start..batch_end)
            .step_by(CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|s| {
                let e = (s + CHUNK).min(batch_end);
                let mut buf = Vec::with_capacity((e - s) * (16 + 12 * k));
                let mut ids = [0u32; MAX_ORDER];
                for i in s..e {
                    unpack(t.keys[i], k, c.bits, &mut ids);
                    push_f32(&mut buf, t.prob[i]);
                    buf.push(b'\t');
                    for (j, &id) in ids[..k].iter().enumerate() {
                        if j > 0 {
                            buf.push(b' ');
                        }
                        buf.extend_from_slice(words[id as usize].as_bytes());
                    }
                    if let Some(&b) = t.backoff.get(i) {
                        buf.push(b'\t');
                        push_f32(&mut buf, b);
                    }
                    buf.push(b'\n');
                }
                buf
            })
            .collect();
        for text in texts {
            out.write_all(&text).map_err(io_err("ARPA output"))?;
        }
    }
    Ok(())
}

struct ArpaReader<'a, R> {
    input: R,
    source_name: &'a str,
    line_no: usize,
    buf: Vec<u8>,
}

/// Lines parsed per parallel batch.
const BATCH_LINES: usize = 1 << 16;

/// Splits an n-gram line into log10 p, the k words and the optional backoff (fields separated
/// by ASCII whitespace) without allocating.
fn split_fields<'a>(line: &'a str, k: usize, out: &mut [&'a str; MAX_ORDER + 2]) -> usize {
    let mut n = 0;
    for f in line
        .split(|c: char| c.is_ascii() && is_separator(c as u8))
        .filter(|f| !f.is_empty())
    {
        if n == k + 2 {
            return n + 1; // too many: the exact number does not matter
        }
        out[n] = f;
        n += 1;
    }
    n
}

fn parse_number(field: &str, what: &str) -> Result<f32, String> {
    match field.parse::<f32>() {
        Ok(x) if !x.is_nan() && x != f32::INFINITY => Ok(x),
        _ => Err(format!(
            "the {what} {:?} is not a finite number or -inf",
            clip(field)
        )),
    }
}

fn fields_message(k: usize, order: usize, count: usize, line: &str) -> String {
    format!(
        "expected {} in \\{k}-grams: (the header says {count} {k}-grams), found {:?}",
        if k < order {
            "log10 p, the words and an optional backoff"
        } else {
            "log10 p and the words"
        },
        clip(line)
    )
}

/// Parses one line of a section k >= 2 into its key and values.
fn parse_ngram<K: Key>(
    line: &[u8],
    k: usize,
    order: usize,
    count: usize,
    vocab: &Vocab,
    bits: u32,
) -> Result<(K, f32, f32), String> {
    let line = std::str::from_utf8(line).map_err(|_| "the line is not valid UTF-8".to_string())?;
    let mut f = [""; MAX_ORDER + 2];
    let n = split_fields(line, k, &mut f);
    if n != k + 1 && !(k < order && n == k + 2) {
        return Err(fields_message(k, order, count, line));
    }
    let prob = parse_number(f[0], "log10 probability")?;
    let backoff = if n == k + 2 {
        parse_number(f[k + 1], "log10 backoff")?
    } else {
        0.0
    };
    let mut key = K::default();
    for w in &f[1..=k] {
        let id = vocab
            .id(w)
            .ok_or_else(|| format!("the word {w:?} is not among the unigrams"))?;
        key = key.push(id, bits);
    }
    Ok((key, prob, backoff))
}

impl<R: BufRead> ArpaReader<'_, R> {
    fn err(&self, message: impl Into<String>) -> LmError {
        self.err_at(self.line_no, message)
    }

    fn err_at(&self, line: usize, message: impl Into<String>) -> LmError {
        LmError::Arpa {
            source_name: self.source_name.to_string(),
            line,
            message: message.into(),
        }
    }

    /// Appends the next line (without its line ending) to `buf`; false at end of input.
    fn append_line(&mut self, buf: &mut Vec<u8>) -> Result<bool, LmError> {
        let n = self
            .input
            .read_until(b'\n', buf)
            .map_err(|source| LmError::Io {
                what: self.source_name.to_string(),
                source,
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        Ok(true)
    }

    /// Next line without its line ending; None at end of input.
    fn next_line(&mut self) -> Result<Option<&str>, LmError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let more = self.append_line(&mut buf)?;
        self.buf = buf;
        if !more {
            return Ok(None);
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => Ok(Some(s)),
            Err(_) => Err(self.err("the line is not valid UTF-8")),
        }
    }

    /// Next non-blank line, trimmed; an error naming `expected` at end of input.
    fn next_content(&mut self, expected: &str) -> Result<String, LmError> {
        loop {
            match self.next_line()? {
                None => {
                    return Err(self.err(format!(
                        "unexpected end of file (truncated?), expected {expected}"
                    )));
                }
                Some(l) if l.trim().is_empty() => continue,
                Some(l) => return Ok(l.trim().to_string()),
            }
        }
    }

    fn expect_section(&mut self, k: usize, line: Option<String>) -> Result<(), LmError> {
        let line = match line {
            Some(l) => l,
            None => self.next_content(&format!("the \\{k}-grams: section"))?,
        };
        if line != format!("\\{k}-grams:") {
            return Err(self.err(format!("expected \\{k}-grams:, found {:?}", clip(&line))));
        }
        Ok(())
    }

    fn truncated(&self, k: usize, got: usize, count: usize) -> LmError {
        self.err(format!(
            "unexpected end of file in \\{k}-grams: after {got} of {count} n-grams (truncated?)"
        ))
    }

    fn read(mut self) -> Result<Model, LmError> {
        let first = self.next_content("\\data\\")?;
        if first != "\\data\\" {
            return Err(self.err(format!(
                "expected the \\data\\ header, found {:?}",
                clip(&first)
            )));
        }
        // Header: ngram k=count lines up to the first section.
        let mut counts: Vec<usize> = Vec::new();
        let mut line = self.next_content("ngram lines")?;
        while let Some(rest) = line.strip_prefix("ngram ") {
            let (k, c) = rest
                .split_once('=')
                .ok_or_else(|| self.err(format!("bad header line {:?}", clip(&line))))?;
            let k: usize = k
                .trim()
                .parse()
                .map_err(|_| self.err(format!("bad order in {:?}", clip(&line))))?;
            let c: usize = c
                .trim()
                .parse()
                .map_err(|_| self.err(format!("bad count in {:?}", clip(&line))))?;
            if k != counts.len() + 1 {
                return Err(self.err(format!(
                    "header lists order {k} where order {} was expected",
                    counts.len() + 1
                )));
            }
            if k > MAX_ORDER {
                return Err(self.err(format!(
                    "order {k} is above the supported maximum {MAX_ORDER}"
                )));
            }
            counts.push(c);
            line = self.next_content("the \\1-grams: section")?;
        }
        let order = counts.len();
        if order == 0 {
            return Err(self.err(format!(
                "expected \"ngram 1=<count>\" after \\data\\, found {:?}",
                clip(&line)
            )));
        }

        // Unigrams, in file order: they define the ids.
        self.expect_section(1, Some(line))?;
        // Capacities are capped: a header's counts are not trusted with memory.
        let mut words: Vec<String> = Vec::with_capacity(counts[0].min(1 << 20));
        let mut seen: hashbrown::HashSet<String, foldhash::fast::FixedState> =
            hashbrown::HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0x766f63));
        let mut uni: Vec<(f32, f32)> = Vec::with_capacity(counts[0].min(1 << 20));
        for got in 0..counts[0] {
            let l = match self.next_line()? {
                Some(l) => l.to_string(),
                None => return Err(self.truncated(1, got, counts[0])),
            };
            let mut f = [""; MAX_ORDER + 2];
            let n = split_fields(&l, 1, &mut f);
            if n != 2 && !(order > 1 && n == 3) {
                return Err(self.err(fields_message(1, order, counts[0], &l)));
            }
            let prob = parse_number(f[0], "log10 probability").map_err(|m| self.err(m))?;
            let backoff = if n == 3 {
                parse_number(f[2], "log10 backoff").map_err(|m| self.err(m))?
            } else {
                0.0
            };
            if !seen.insert(f[1].to_string()) {
                return Err(self.err(format!("the unigram {:?} appears twice", f[1])));
            }
            words.push(f[1].to_string());
            uni.push((prob, backoff));
        }
        drop(seen);
        for w in [BOS, EOS] {
            if !words.iter().any(|x| x == w) {
                return Err(self.err(format!("the model has no {w} unigram")));
            }
        }
        if !words.iter().any(|x| x == UNK) {
            words.push(UNK.to_string());
            uni.push((-100.0, 0.0));
        }
        let vocab = Vocab::new(words).map_err(|m| self.err(m))?;
        let (bits, wide) = Core::<f32>::key_width(order, vocab.words.len())?;
        let tables = if wide {
            Tables::Wide(self.read_higher(&uni, &counts, &vocab, bits)?)
        } else {
            Tables::Narrow(self.read_higher(&uni, &counts, &vocab, bits)?)
        };
        let end = self.next_content("\\end\\")?;
        if end != "\\end\\" {
            return Err(self.err(format!(
                "expected \\end\\ after {} {order}-grams (more lines than the header count?), found {:?}",
                counts[order - 1],
                clip(&end)
            )));
        }
        Ok(Model {
            core: Core::new(order, vocab, bits, tables, Vec::new()),
        })
    }

    /// Sections 2..=N, parsed in parallel batches, then sorted by key.
    fn read_higher<K: Key>(
        &mut self,
        uni: &[(f32, f32)],
        counts: &[usize],
        vocab: &Vocab,
        bits: u32,
    ) -> Result<Vec<OrderTable<K, f32>>, LmError> {
        let order = counts.len();
        let unigrams = OrderTable {
            keys: (0..vocab.words.len() as u32)
                .map(|id| pack::<K>(&[id], bits))
                .collect(),
            prob: uni.iter().map(|u| u.0).collect(),
            backoff: if order > 1 {
                uni.iter().map(|u| u.1).collect()
            } else {
                Vec::new()
            },
        };
        let mut tables = vec![unigrams];
        let mut batch: Vec<u8> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        for (i, &count) in counts.iter().enumerate().skip(1) {
            let k = i + 1;
            self.expect_section(k, None)?;
            let first_line = self.line_no + 1;
            let mut entries: Vec<(K, f32, f32)> = Vec::with_capacity(count.min(1 << 22));
            let mut got = 0;
            while got < count {
                batch.clear();
                ends.clear();
                let first_in_batch = self.line_no + 1;
                while ends.len() < BATCH_LINES && got + ends.len() < count {
                    if !self.append_line(&mut batch)? {
                        return Err(self.truncated(k, got + ends.len(), count));
                    }
                    ends.push(batch.len());
                }
                let parsed: Vec<Result<(K, f32, f32), String>> = (0..ends.len())
                    .into_par_iter()
                    .map(|j| {
                        let start = if j == 0 { 0 } else { ends[j - 1] };
                        parse_ngram::<K>(&batch[start..ends[j]], k, order, count, vocab, bits)
                    })
                    .collect();
                for (j, r) in parsed.into_iter().enumerate() {
                    match r {
                        Ok(e) => entries.push(e),
                        Err(m) => return Err(self.err_at(first_in_batch + j, m)),
                    }
                }
                got += ends.len();
            }
            entries.par_sort_unstable_by_key(|e| e.0);
            if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                let mut ids = [0u32; MAX_ORDER];
                unpack(w[0].0, k, bits, &mut ids);
                let text: Vec<&str> = ids[..k]
                    .iter()
                    .map(|&id| vocab.words[id as usize].as_str())
                    .collect();
                return Err(self.err_at(
                    first_line,
                    format!(
                        "the {k}-gram \"{}\" appears twice in the section of lines {first_line}-{}",
                        super::Words(&text),
                        self.line_no
                    ),
                ));
            }
            let mut table = OrderTable {
                keys: Vec::new(),
                prob: Vec::new(),
                backoff: Vec::new(),
            };
            entries
                .par_iter()
                .map(|e| e.0)
                .collect_into_vec(&mut table.keys);
            entries
                .par_iter()
                .map(|e| e.1)
                .collect_into_vec(&mut table.prob);
            if k < order {
                entries
                    .par_iter()
                    .map(|e| e.2)
                    .collect_into_vec(&mut table.backoff);
            }
            tables.push(table);
        }
        Ok(tables)
    }
}

fn clip(s: &str) -> String {
    if s.len() <= 80 {
        s.to_string()
    } else {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::push_f32;

    fn fmt(x: f32) -> String {
        let mut v = Vec::new();
        push_f32(&mut v, x);
        String::from_utf8(v).unwrap_or_default()
    }

    #[test]
    fn numbers_as_lmplz() {
        assert_eq!(fmt(0.0), "0");
        assert_eq!(fmt(-0.0), "0");
        assert_eq!(fmt(-3.0), "-3");
        assert_eq!(fmt(-0.14902863), "-0.14902863");
        assert_eq!(fmt(-2.8795042), "-2.8795042");
        assert_eq!(fmt(-1.5e-6), "-0.0000015");
        assert_eq!(fmt(-2.5e-5), "-0.000025");
        assert_eq!(fmt(-1e-7), "-1e-7");
        assert_eq!(fmt(f32::NEG_INFINITY), "-inf");
        for x in [-1.5e-6f32, -0.14902863, -99.0, -1e-7, -12.345678] {
            assert_eq!(fmt(x).parse::<f32>().ok(), Some(x));
        }
    }
}
