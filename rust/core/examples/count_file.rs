//! Count the n-grams of files from the command line (for profiling the engine without Python):
//! `cargo run --release --example count_file -- FILE N THREADS [whitespace|words]`.

use monofact_core::count::{count_ngrams, CountOptions};
use monofact_core::progress::Progress;
use monofact_core::source::{discover, Corpus, SourceOptions};
use monofact_core::tokenize::Tokenizer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: count_file FILE [N] [THREADS] [TOKENIZER]")?;
    let n = args.get(1).map_or(Ok(3), |s| s.parse())?;
    let threads = args.get(2).map_or(Ok(0), |s| s.parse())?;
    let tokenizer = Tokenizer::from_name(args.get(3).map_or("whitespace", |s| s.as_str()), false)?;
    let src = SourceOptions::default();
    let corpus = Corpus::Files(discover(std::slice::from_ref(path), &src)?);
    let opts = CountOptions {
        n,
        threads,
        tokenizer,
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let c = count_ngrams(&corpus, &src, &opts, &Progress::new())?;
    let secs = start.elapsed().as_secs_f64();
    let s = &c.summary;
    println!(
        "n={} tokens={} distinct={} n1={} seconds={:.3} Mtok/s={:.1}",
        s.n,
        s.tokens,
        s.distinct,
        s.n1,
        secs,
        s.tokens as f64 / secs / 1e6
    );
    Ok(())
}
