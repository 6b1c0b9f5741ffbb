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

/// One parsed n-gram line before the vocabulary is complete.
struct Entry {
    ids: [u32; MAX_ORDER],
    prob: f32,
    backoff: f32,
    line: usize,
}

impl<R: BufRead> ArpaReader<'_, R> {
    fn err(&self, message: impl Into<String>) -> LmError {
        LmError::Arpa {
            source_name: self.source_name.to_string(),
            line: self.line_no,
            message: message.into(),
        }
    }

    /// Next line without its line ending; None at end of input.
    fn next_line(&mut self) -> Result<Option<&str>, LmError> {
        self.buf.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| LmError::Io {
                what: self.source_name.to_string(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
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
        let mut words: Vec<String> = Vec::with_capacity(counts[0]);
        let mut index: hashbrown::HashMap<String, u32, foldhash::fast::FixedState> =
            hashbrown::HashMap::with_capacity_and_hasher(
                counts[0],
                foldhash::fast::FixedState::with_seed(0x766f63),
            );
        let mut sections: Vec<Vec<Entry>> = Vec::with_capacity(order);
        for k in 1..=order {
            if k > 1 {
                line = self.next_content(&format!("the \\{k}-grams: section"))?;
            }
            if line != format!("\\{k}-grams:") {
                return Err(self.err(format!("expected \\{k}-grams:, found {:?}", clip(&line))));
            }
            let mut entries: Vec<Entry> = Vec::with_capacity(counts[k - 1].min(1 << 24));
            for got in 0..counts[k - 1] {
                let line_no = self.line_no + 1;
                let l = match self.next_line()? {
                    Some(l) => l.to_string(),
                    None => {
                        return Err(self.err(format!(
                            "unexpected end of file in \\{k}-grams: after {got} of {} n-grams (truncated?)",
                            counts[k - 1]
                        )))
                    }
                };
                let fields: Vec<&str> = l
                    .split(|c: char| c.is_ascii() && is_separator(c as u8))
                    .filter(|f| !f.is_empty())
                    .collect();
                if fields.len() != k + 1 && !(k < order && fields.len() == k + 2) {
                    return Err(self.err(format!(
                        "expected {} in \\{k}-grams: (the header says {} {k}-grams), found {:?}",
                        if k < order {
                            "log10 p, the words and an optional backoff"
                        } else {
                            "log10 p and the words"
                        },
                        counts[k - 1],
                        clip(&l)
                    )));
                }
                let prob = self.number(fields[0], "log10 probability")?;
                let backoff = if fields.len() == k + 2 {
                    self.number(fields[k + 1], "log10 backoff")?
                } else {
                    0.0
                };
                let mut ids = [0u32; MAX_ORDER];
                for (j, w) in fields[1..=k].iter().enumerate() {
                    ids[j] = if k == 1 {
                        if index.contains_key(*w) {
                            return Err(self.err(format!("the unigram {w:?} appears twice")));
                        }
                        let id = u32::try_from(words.len())
                            .map_err(|_| self.err("too many unigrams"))?;
                        index.insert(w.to_string(), id);
                        words.push(w.to_string());
                        id
                    } else {
                        *index.get(*w).ok_or_else(|| {
                            self.err(format!("the word {w:?} is not among the unigrams"))
                        })?
                    };
                }
                entries.push(Entry {
                    ids,
                    prob,
                    backoff,
                    line: line_no,
                });
            }
            sections.push(entries);
        }
        let end = self.next_content("\\end\\")?;
        if end != "\\end\\" {
            return Err(self.err(format!(
                "expected \\end\\ after {} {order}-grams (more lines than the header count?), found {:?}",
                counts[order - 1],
                clip(&end)
            )));
        }
        for w in [BOS, EOS] {
            if !index.contains_key(w) {
                return Err(self.err(format!("the model has no {w} unigram")));
            }
        }
        if !index.contains_key(UNK) {
            let id = words.len() as u32;
            index.insert(UNK.to_string(), id);
            words.push(UNK.to_string());
            let mut ids = [0u32; MAX_ORDER];
            ids[0] = id;
            sections[0].push(Entry {
                ids,
                prob: -100.0,
                backoff: 0.0,
                line: 0,
            });
        }
        let vocab = Vocab::new(words).map_err(|m| self.err(m))?;
        let (bits, wide) = Core::<f32>::key_width(order, vocab.words.len())?;
        let tables = if wide {
            Tables::Wide(self.build(sections, order, bits, &vocab)?)
        } else {
            Tables::Narrow(self.build(sections, order, bits, &vocab)?)
        };
        Ok(Model {
            core: Core::new(order, vocab, bits, tables, Vec::new()),
        })
    }

    fn build<K: Key>(
        &self,
        sections: Vec<Vec<Entry>>,
        order: usize,
        bits: u32,
        vocab: &Vocab,
    ) -> Result<Vec<OrderTable<K, f32>>, LmError> {
        let mut tables = Vec::with_capacity(order);
        for (i, entries) in sections.into_iter().enumerate() {
            let k = i + 1;
            let mut keyed: Vec<(K, f32, f32, usize)> = entries
                .iter()
                .map(|e| (pack::<K>(&e.ids[..k], bits), e.prob, e.backoff, e.line))
                .collect();
            drop(entries);
            keyed.par_sort_unstable_by_key(|e| e.0);
            if let Some(w) = keyed.windows(2).find(|w| w[0].0 == w[1].0) {
                let mut ids = [0u32; MAX_ORDER];
                unpack(w[0].0, k, bits, &mut ids);
                let text: Vec<&str> = ids[..k]
                    .iter()
                    .map(|&id| vocab.words[id as usize].as_str())
                    .collect();
                return Err(LmError::Arpa {
                    source_name: self.source_name.to_string(),
                    line: w[0].3.max(w[1].3),
                    message: format!("the {k}-gram \"{}\" appears twice", super::Words(&text)),
                });
            }
            let has_backoff = k < order;
            tables.push(OrderTable {
                keys: keyed.iter().map(|e| e.0).collect(),
                prob: keyed.iter().map(|e| e.1).collect(),
                backoff: if has_backoff {
                    keyed.iter().map(|e| e.2).collect()
                } else {
                    Vec::new()
                },
            });
        }
        Ok(tables)
    }

    fn number(&self, field: &str, what: &str) -> Result<f32, LmError> {
        match field.parse::<f32>() {
            Ok(x) if !x.is_nan() && x != f32::INFINITY => Ok(x),
            _ => Err(self.err(format!(
                "the {what} {:?} is not a finite number or -inf",
                clip(field)
            ))),
        }
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
