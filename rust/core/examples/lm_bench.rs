//! Timing harness for the language-model module (until criterion benches exist).
//!
//! ```text
//! cargo run -p monofact-core --release --example lm_bench -- count CORPUS ORDER COUNTS.bin
//! cargo run -p monofact-core --release --example lm_bench -- fit COUNTS.bin OUT.arpa [QUERY_CORPUS]
//! cargo run -p monofact-core --release --example lm_bench -- engine CORPUS ORDER OUT.arpa
//! ```
//! `count` uses the simple `lm::count_sentences` (the counting engine is the fast path) and saves
//! the raw counts, so `fit` measures estimation + ARPA writing (and peak memory) alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Instant;

use monofact_core::lm::{self, FitOptions, RawCounts};

fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) used by this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn save(raw: &RawCounts, path: &str) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "{} {} {} {} {}",
        raw.order,
        raw.bos,
        raw.eos,
        raw.vocab.len(),
        raw.counts.len()
    )?;
    for w in &raw.vocab {
        writeln!(f, "{w}")?;
    }
    for g in &raw.grams {
        f.write_all(&g.to_le_bytes())?;
    }
    for c in &raw.counts {
        f.write_all(&c.to_le_bytes())?;
    }
    f.flush()
}

fn load(path: &str) -> std::io::Result<RawCounts> {
    let mut f = BufReader::new(std::fs::File::open(path)?);
    let mut head = String::new();
    f.read_line(&mut head)?;
    let v: Vec<usize> = head
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let (order, bos, eos, nv, ng) = (v[0], v[1] as u32, v[2] as u32, v[3], v[4]);
    let mut vocab = Vec::with_capacity(nv);
    for _ in 0..nv {
        let mut w = String::new();
        f.read_line(&mut w)?;
        vocab.push(w.trim_end_matches('\n').to_string());
    }
    let mut buf = vec![0u8; ng * order * 4];
    f.read_exact(&mut buf)?;
    let grams = buf
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut buf = vec![0u8; ng * 8];
    f.read_exact(&mut buf)?;
    let counts = buf
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect();
    Ok(RawCounts {
        order,
        vocab,
        bos,
        eos,
        grams,
        counts,
    })
}

/// Deterministic Fisher-Yates shuffle of the n-grams (splitmix64).
fn shuffle(raw: &mut RawCounts) {
    let n = raw.counts.len();
    let o = raw.order;
    let mut state = 0x1234_5678_u64;
    for i in (1..n).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = ((z ^ (z >> 31)) % (i as u64 + 1)) as usize;
        raw.counts.swap(i, j);
        for k in 0..o {
            raw.grams.swap(i * o + k, j * o + k);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("count") if args.len() == 5 => {
            let text = std::fs::read_to_string(&args[2])?;
            let t = Instant::now();
            let raw = lm::count_sentences(text.lines(), args[3].parse()?)?;
            eprintln!(
                "count_sentences: {:?}, {} distinct n-grams",
                t.elapsed(),
                raw.len()
            );
            save(&raw, &args[4])?;
        }
        Some("engine") if args.len() == 5 => {
            // The whole pipeline: the counting engine, then estimation and ARPA writing.
            use monofact_core::count::{count_ngrams, export::KeyFilter, CountOptions};
            use monofact_core::progress::Progress;
            use monofact_core::source::{discover, Corpus, SourceOptions};
            use monofact_core::tokenize::Tokenizer;
            let order: usize = args[3].parse()?;
            let t0 = Instant::now();
            let c0 = cpu_seconds();
            let src = SourceOptions::default();
            let corpus = Corpus::Files(discover(std::slice::from_ref(&args[2]), &src)?);
            let opts = CountOptions {
                n: order,
                pad: true,
                tokenizer: Tokenizer::Whitespace,
                ..Default::default()
            };
            let counts = count_ngrams(&corpus, &src, &opts, &Progress::new())?;
            let t1 = Instant::now();
            let keys = counts.keys(&KeyFilter::default())?;
            drop(counts);
            let raw = RawCounts::from_exported(keys)?;
            let t2 = Instant::now();
            let c2 = cpu_seconds();
            let model = lm::estimate_owned(raw, &FitOptions::default())?;
            let t3 = Instant::now();
            model.write_arpa_file(&args[4])?;
            let t4 = Instant::now();
            eprintln!(
                "engine count {:?}, export {:?}, estimate {:?}, write ARPA {:?}: total {:?} (cpu: count+export {:.2} s, estimate+write {:.2} s); model {:?}; peak RSS {:.0} MB",
                t1 - t0,
                t2 - t1,
                t3 - t2,
                t4 - t3,
                t4 - t0,
                c2 - c0,
                cpu_seconds() - c2,
                model.ngram_counts(),
                peak_rss_mb()
            );
        }
        Some("fit") if args.len() >= 4 => {
            let mut raw = load(&args[2])?;
            if std::env::var_os("LM_SHUFFLE").is_some() {
                // The engine hands over partitions in hash order, not sorted: shuffle to match.
                shuffle(&mut raw);
            }
            let rss0 = peak_rss_mb();
            eprintln!(
                "after loading the counts: RSS {:.0} MB, peak {:.0} MB",
                status_mb("VmRSS:"),
                rss0
            );
            // Reset the high-water mark (Linux) so the peak below is that of fit + write.
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let c0 = cpu_seconds();
            let t0 = Instant::now();
            let (n_raw, raw_order) = (raw.len(), raw.order);
            let model = if std::env::var_os("LM_BORROWED").is_some() {
                lm::estimate(&raw, &FitOptions::default())?
            } else {
                lm::estimate_owned(raw, &FitOptions::default())?
            };
            let t1 = Instant::now();
            let c1 = cpu_seconds();
            if std::env::var_os("LM_SINK").is_some() {
                for _ in 0..3 {
                    let c = cpu_seconds();
                    model.write_arpa(std::io::sink())?;
                    eprintln!("write to sink: cpu {:.2}", cpu_seconds() - c);
                }
            }
            model.write_arpa_file(&args[3])?;
            let t2 = Instant::now();
            let c2 = cpu_seconds();
            eprintln!("cpu seconds: estimate {:.2}, write {:.2}", c1 - c0, c2 - c1);
            eprintln!(
                "{} distinct order-{} n-grams, model {:?}: estimate {:?}, write ARPA {:?}, total {:?}; peak RSS {:.0} MB (input counts loaded: {:.0} MB)",
                n_raw,
                raw_order,
                model.ngram_counts(),
                t1 - t0,
                t2 - t1,
                t2 - t0,
                peak_rss_mb(),
                rss0
            );
            if let Some(q) = args.get(4) {
                let text = std::fs::read_to_string(q)?;
                let lines: Vec<&str> = text.lines().collect();
                let t = Instant::now();
                let c = cpu_seconds();
                let ppl = model.perplexity(&lines, true, true)?;
                eprintln!("query cpu seconds {:.2}", cpu_seconds() - c);
                eprintln!(
                    "query: {} sentences, {} tokens in {:?} ({:.1} Mtok/s), perplexity {:.3}",
                    lines.len(),
                    ppl.tokens,
                    t.elapsed(),
                    ppl.tokens as f64 / t.elapsed().as_secs_f64() / 1e6,
                    ppl.perplexity
                );
                let t = Instant::now();
                let back = lm::Model::read_arpa_file(&args[3])?;
                eprintln!("read ARPA: {:?} ({:?})", t.elapsed(), back.ngram_counts());
            }
        }
        _ => {
            eprintln!(
                "usage: lm_bench count CORPUS ORDER COUNTS.bin | fit COUNTS.bin OUT.arpa [QUERY_CORPUS] | engine CORPUS ORDER OUT.arpa"
            );
            std::process::exit(2);
        }
    }
    Ok(())
}
