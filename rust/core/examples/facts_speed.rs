//! Throughput of fact extraction on a deterministic synthetic corpus.
//!
//! ```text
//! cargo run --release -p monofact-core --example facts_speed -- [MB] [corpus-out.txt]
//! ```
//! Builds a knowledge base of 100,000 surface forms (50,000 subjects, 50,000 objects, 100,000
//! facts), a corpus of about `MB` megabytes (default 200) of one-sentence-per-line documents in
//! which about 4% of words are entity names and some sentences state a KB fact or an
//! "X the son of Y", then times single-thread scans (KB in several windows, templates) and a
//! two-thread KB scan. With a second argument it writes the corpus there (one document a line)
//! for the Python `re` comparison in `rust/core/examples/facts_speed_re.py`.
//!
//! Measured on the 2-core development machine while two other builds ran (load average 6-7), so
//! wall-clock rates are depressed; MB per CPU-second is the fairer figure (200 MB corpus):
//!
//! | run | MB/cpu-s |
//! |---|---|
//! | KB sentence, 1 thread | 119 |
//! | KB document | 155 |
//! | KB tokens(10) | 101 |
//! | KB sentence, case-insensitive | 30 |
//! | template son-of | 1,176 (Python `re`: 31 MB/s wall) |
//! | 5 templates | 351 (Python `re`: 6.3 MB/s wall) |

use std::time::Instant;

use monofact_core::facts::{
    finish, CountBy, FactMatcher, FactTable, KbOptions, KbRow, KnowledgeBase, TemplateOptions,
    Window,
};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn word(rng: &mut Lcg, capital: bool) -> String {
    const C: &[u8] = b"bcdfghjklmnprstvz";
    const V: &[u8] = b"aeiou";
    let syllables = 1 + rng.below(3);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push(C[rng.below(C.len())] as char);
        w.push(V[rng.below(V.len())] as char);
        if rng.below(3) == 0 {
            w.push(C[rng.below(C.len())] as char);
        }
    }
    if capital {
        w[..1].to_ascii_uppercase() + &w[1..]
    } else {
        w
    }
}

/// CPU seconds used by this process so far (user + system), from /proc; 0 where unavailable.
/// The machine is shared, so MB per CPU-second is reported beside the wall-clock rate.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the ")" the state is field 0, so utime (field 14 of the line) is index 11.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // FACTS_SPEED_ONLY=text runs only the timings whose label contains `text`.
    let only = std::env::var("FACTS_SPEED_ONLY").unwrap_or_default();
    let megabytes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let mut rng = Lcg(42);

    // 50,000 subject and 50,000 object names: one or two capitalized words, all distinct.
    let mut seen = std::collections::HashSet::new();
    let mut names = Vec::new();
    while names.len() < 100_000 {
        let n = if rng.below(2) == 0 {
            word(&mut rng, true)
        } else {
            word(&mut rng, true) + " " + &word(&mut rng, true)
        };
        if seen.insert(n.clone()) {
            names.push(n);
        }
    }
    let (subjects, objects) = names.split_at(50_000);
    let relations = ["father", "born_in", "works_for", "wrote"];
    let rows: Vec<KbRow> = (0..100_000)
        .map(|i| KbRow {
            subject: subjects[i % 50_000].clone(),
            relation: relations[rng.below(relations.len())].to_string(),
            object: objects[rng.below(50_000)].clone(),
            ..KbRow::default()
        })
        .collect();
    let kb = KnowledgeBase::new(rows).expect("valid kb");
    let common: Vec<String> = (0..20_000).map(|_| word(&mut rng, false)).collect();

    // The corpus: documents of 1-3 sentences of 8-30 words.
    let target = megabytes * 1_000_000;
    let mut corpus = String::with_capacity(target + 1000);
    let mut docs: Vec<(usize, usize)> = Vec::new();
    while corpus.len() < target {
        let start = corpus.len();
        for _ in 0..1 + rng.below(3) {
            let words = 8 + rng.below(23);
            let fact = if rng.below(4) == 0 {
                Some(&kb.rows()[rng.below(kb.len())])
            } else {
                None
            };
            let son_of = rng.below(20) == 0;
            for w in 0..words {
                if w > 0 {
                    corpus.push(' ');
                }
                let roll = rng.below(100);
                if w == 1 && son_of {
                    corpus.push_str(&word(&mut rng, true));
                    corpus.push_str(" the son of ");
                    corpus.push_str(&word(&mut rng, true));
                } else if w == 2 && fact.is_some() {
                    corpus.push_str(&fact.map(|f| f.subject.clone()).unwrap_or_default());
                } else if w == words - 1 && fact.is_some() {
                    corpus.push_str(&fact.map(|f| f.object.clone()).unwrap_or_default());
                } else if roll < 4 {
                    corpus.push_str(&names[rng.below(names.len())]);
                } else {
                    corpus.push_str(&common[rng.below(common.len())]);
                }
            }
            corpus.push_str(". ");
        }
        corpus.pop();
        docs.push((start, corpus.len()));
        corpus.push('\n');
    }
    let mb = corpus.len() as f64 / 1e6;
    println!(
        "corpus: {:.1} MB, {} documents; KB: {} rows, 100,000 surface forms",
        mb,
        docs.len(),
        kb.len()
    );
    if let Some(path) = args.get(2) {
        std::fs::write(path, &corpus).expect("write corpus");
    }

    let scan = |matcher: &FactMatcher, threads: usize| {
        let start = Instant::now();
        let cpu = cpu_seconds();
        let chunk = docs.len().div_ceil(threads);
        let tables: Vec<FactTable> = std::thread::scope(|scope| {
            let handles: Vec<_> = docs
                .chunks(chunk)
                .enumerate()
                .map(|(shard, part)| {
                    let corpus = &corpus;
                    scope.spawn(move || {
                        let mut table = FactTable::new();
                        for (i, &(s, e)) in part.iter().enumerate() {
                            matcher.scan(
                                &corpus[s..e],
                                ((shard as u64) << 40) | i as u64,
                                &mut table,
                            );
                        }
                        table
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("scan thread"))
                .collect()
        });
        let counts = finish(tables, None, CountBy::Mention);
        let secs = start.elapsed().as_secs_f64();
        (secs, cpu_seconds() - cpu, counts)
    };

    // Warm up (page in the corpus, let the CPU clock settle) before timing anything.
    let warm = FactMatcher::templates(
        &[("w".to_string(), r"(?P<subject>Zq)(?P<object>x)".to_string())],
        &Default::default(),
    )
    .expect("warm-up template");
    let _ = scan(&warm, 1);

    let t = Instant::now();
    let sentence = FactMatcher::knowledge_base(&kb, Window::Sentence, &KbOptions::default())
        .expect("kb matcher");
    println!("KB matcher build: {:.2} s", t.elapsed().as_secs_f64());
    for (label, window, ci) in [
        ("KB sentence", Window::Sentence, false),
        ("KB document", Window::Document, false),
        ("KB tokens(10)", Window::Tokens(10), false),
        ("KB sentence, case-insensitive", Window::Sentence, true),
    ] {
        if !label.contains(only.as_str()) {
            continue;
        }
        let matcher = if window == Window::Sentence && !ci {
            None
        } else {
            Some(
                FactMatcher::knowledge_base(
                    &kb,
                    window,
                    &KbOptions {
                        case_insensitive: ci,
                    },
                )
                .expect("kb matcher"),
            )
        };
        let m = matcher.as_ref().unwrap_or(&sentence);
        let threads_list: &[usize] = if window == Window::Sentence && !ci {
            &[1, 2]
        } else {
            &[1]
        };
        for &threads in threads_list {
            let (secs, cpu, counts) = scan(m, threads);
            println!(
                "{label:32} {threads} thread(s): {:6.2} s {:7.1} MB/s {:7.1} MB/cpu-s  mentions {} facts {}",
                secs,
                mb / secs,
                mb / cpu,
                counts.summary.mentions,
                counts.summary.distinct_facts
            );
        }
    }

    let son_of = vec![(
        "father".to_string(),
        r"\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b".to_string(),
    )];
    let mut five = son_of.clone();
    for (rel, pat) in [
        (
            "born_in",
            r"\b(?P<subject>[A-Z][a-z]+) was born in (?P<object>[A-Z][a-z]+)\b",
        ),
        (
            "works_for",
            r"\b(?P<subject>[A-Z][a-z]+) works for (?P<object>[A-Z][a-z]+)\b",
        ),
        (
            "wrote",
            r"\b(?P<subject>[A-Z][a-z]+) wrote (?P<object>[A-Z][a-z]+)\b",
        ),
        (
            "daughter",
            r"\b(?P<subject>[A-Z][a-z]+) the daughter of (?P<object>[A-Z][a-z]+)\b",
        ),
    ] {
        five.push((rel.to_string(), pat.to_string()));
    }
    for (label, patterns) in [("template son-of", &son_of), ("5 templates", &five)] {
        if !label.contains(only.as_str()) {
            continue;
        }
        let m = FactMatcher::templates(patterns, &TemplateOptions::default()).expect("templates");
        for threads in [1, 2] {
            let (secs, cpu, counts) = scan(&m, threads);
            println!(
                "{label:32} {threads} thread(s): {:6.2} s {:7.1} MB/s {:7.1} MB/cpu-s  mentions {} facts {}",
                secs,
                mb / secs,
                mb / cpu,
                counts.summary.mentions,
                counts.summary.distinct_facts
            );
        }
    }
}
