//! Sampling, greedy decoding and multiple-choice answering.
//!
//! The next-word distribution is built densely over the vocabulary with the back-off recursion
//! `P_l(w) = p(c_l w)` if stored, else `b(c_l) P_{l-1}(w)`, starting from the unigrams: O(|V| *
//! order) per generated token, exact, and independent of threads. `<s>` and `<unk>` are never
//! generated (the distribution is renormalised without them). Randomness comes from a seeded
//! splitmix64, so a seed gives the same text on every machine and thread count.

use rayon::prelude::*;

use super::key::{pack, Key};
use super::model::{Core, Model, OrderTable, Tables};
use super::{tokens, LmError};

/// Options of [`Model::generate`].
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateOptions {
    /// Stop after this many tokens (`</s>` not counted).
    pub max_tokens: usize,
    /// Seed of the sampler (batched calls use `seed + index`).
    pub seed: u64,
    /// Take the most probable word instead of sampling (ties: lowest id).
    pub greedy: bool,
    /// Start from the `<s>` context (default true).
    pub bos: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 50,
            seed: 0,
            greedy: false,
            bos: true,
        }
    }
}

/// A generated continuation.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// The generated tokens (without the prefix and without `</s>`).
    pub tokens: Vec<String>,
    /// True when generation stopped at `</s>`, false at `max_tokens`.
    pub ended: bool,
    /// log10 probability of the generated tokens (and `</s>` when `ended`) under the model.
    pub log10_prob: f64,
}

/// The answer to one multiple-choice question.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// Index of the most probable choice (ties: the first).
    pub pick: usize,
    /// log10 probability of each choice as a continuation of the prompt.
    pub log10_probs: Vec<f64>,
}

/// splitmix64: tiny, seedable, and good enough for sampling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Index range of the n-grams whose context is `ctx` (all of order `ctx.len() + 1`).
fn children<K: Key, V>(
    tables: &[OrderTable<K, V>],
    ctx: &[u32],
    bits: u32,
) -> Option<(usize, std::ops::Range<usize>)> {
    let k = ctx.len() + 1;
    let t = tables.get(k - 1)?;
    let c: K = pack(ctx, bits);
    let lo = t.keys.partition_point(|key| key.context(bits) < c);
    let hi = t.keys[lo..].partition_point(|key| key.context(bits) == c) + lo;
    Some((k, lo..hi))
}

impl Core<f32> {
    /// Dense next-word distribution (linear probabilities, `<s>` and `<unk>` zeroed).
    fn next_distribution(&self, history: &[u32], dist: &mut Vec<f64>) {
        let v = self.vocab.words.len();
        dist.clear();
        dist.resize(v, 0.0);
        fn fill<K: Key>(
            core: &Core<f32>,
            t: &[OrderTable<K, f32>],
            history: &[u32],
            dist: &mut [f64],
        ) {
            let bits = core.bits;
            let uni = &t[0];
            for (i, &key) in uni.keys.iter().enumerate() {
                dist[key.word(0, bits) as usize] = 10f64.powf(uni.prob[i] as f64);
            }
            let max_ctx = history.len().min(core.order - 1);
            for l in 1..=max_ctx {
                let ctx = &history[history.len() - l..];
                let b = core.lookup(ctx).map_or(0.0, |(_, b)| b);
                if b != 0.0 {
                    let f = 10f64.powf(b);
                    dist.iter_mut().for_each(|p| *p *= f);
                }
                if let Some((k, range)) = children(t, ctx, bits) {
                    let o = &t[k - 1];
                    for i in range {
                        dist[o.keys[i].word(0, bits) as usize] = 10f64.powf(o.prob[i] as f64);
                    }
                }
            }
        }
        match &self.tables {
            Tables::Narrow(t) => fill(self, t, history, dist),
            Tables::Wide(t) => fill(self, t, history, dist),
        }
        dist[self.vocab.bos as usize] = 0.0;
        dist[self.vocab.unk as usize] = 0.0;
    }

    fn generate_one(
        &self,
        prefix: &str,
        opts: &GenerateOptions,
        seed: u64,
    ) -> Result<Generation, LmError> {
        let mut seq = Vec::new();
        if opts.bos {
            seq.push(self.vocab.bos);
        }
        self.ids_of(tokens(prefix), &mut seq)?;
        let mut rng = SplitMix64(seed);
        let mut dist = Vec::new();
        let mut out = Vec::new();
        let mut log10_prob = 0.0;
        let mut ended = false;
        while out.len() < opts.max_tokens {
            let lo = seq.len().saturating_sub(self.order - 1);
            self.next_distribution(&seq[lo..], &mut dist);
            let total: f64 = dist.iter().sum();
            if total <= 0.0 || !total.is_finite() {
                return Err(LmError::Internal(
                    "the next-word distribution has no mass".to_string(),
                ));
            }
            let pick = if opts.greedy {
                // First maximum: lowest id among ties.
                let mut best = 0;
                for (i, &p) in dist.iter().enumerate() {
                    if p > dist[best] {
                        best = i;
                    }
                }
                best
            } else {
                let target = rng.next_f64() * total;
                let mut acc = 0.0;
                let mut pick = None;
                for (i, &p) in dist.iter().enumerate() {
                    acc += p;
                    if p > 0.0 && acc > target {
                        pick = Some(i);
                        break;
                    }
                }
                // Rounding can leave target at the very end: take the last word with mass.
                pick.or_else(|| dist.iter().rposition(|&p| p > 0.0))
                    .unwrap_or(self.vocab.eos as usize)
            };
            let w = pick as u32;
            if w == self.vocab.eos {
                log10_prob += self.word_log10(&seq[lo..], w);
                ended = true;
                break;
            }
            log10_prob += self.word_log10(&seq[lo..], w);
            seq.push(w);
            out.push(self.vocab.words[pick].clone());
        }
        Ok(Generation {
            tokens: out,
            ended,
            log10_prob,
        })
    }
}

impl Model {
    /// Generates a continuation of `prefix` (sampled with `opts.seed`, or greedy); stops at
    /// `</s>` or after `opts.max_tokens` tokens.
    pub fn generate(&self, prefix: &str, opts: &GenerateOptions) -> Result<Generation, LmError> {
        self.core.generate_one(prefix, opts, opts.seed)
    }

    /// Generates continuations of many prefixes in parallel; prefix i uses seed
    /// `opts.seed + i`, so results do not depend on the thread count.
    pub fn generate_batch<S: AsRef<str> + Sync>(
        &self,
        prefixes: &[S],
        opts: &GenerateOptions,
    ) -> Result<Vec<Generation>, LmError> {
        prefixes
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                self.core
                    .generate_one(p.as_ref(), opts, opts.seed.wrapping_add(i as u64))
            })
            .collect()
    }

    /// Multiple choice: scores each choice as a continuation of its prompt (the prompt follows
    /// `<s>`; the score is the sum of log10 p of the choice's tokens, plus `</s>` when `eos`) and
    /// picks the most probable (ties: the first). `choices[i]` are the options of `prompts[i]`.
    pub fn choose<P: AsRef<str> + Sync, C: AsRef<str> + Sync>(
        &self,
        prompts: &[P],
        choices: &[Vec<C>],
        eos: bool,
    ) -> Result<Vec<Choice>, LmError> {
        if prompts.len() != choices.len() {
            return Err(LmError::BadArgument(format!(
                "{} prompts but {} lists of choices",
                prompts.len(),
                choices.len()
            )));
        }
        let core = &self.core;
        prompts
            .par_iter()
            .zip(choices.par_iter())
            .enumerate()
            .map(|(q, (prompt, opts))| {
                if opts.is_empty() {
                    return Err(LmError::BadArgument(format!("question {q} has no choices")));
                }
                let mut ctx = vec![core.vocab.bos];
                core.ids_of(tokens(prompt.as_ref()), &mut ctx)?;
                let mut log10_probs = Vec::with_capacity(opts.len());
                for choice in opts {
                    let mut seq = ctx.clone();
                    let start = seq.len();
                    core.ids_of(tokens(choice.as_ref()), &mut seq)?;
                    if eos {
                        seq.push(core.vocab.eos);
                    }
                    let mut total = 0.0;
                    for i in start..seq.len() {
                        let lo = i.saturating_sub(core.order - 1);
                        total += core.word_log10(&seq[lo..i], seq[i]);
                    }
                    log10_probs.push(total);
                }
                let mut pick = 0;
                for (i, &s) in log10_probs.iter().enumerate() {
                    if s > log10_probs[pick] {
                        pick = i;
                    }
                }
                Ok(Choice { pick, log10_probs })
            })
            .collect()
    }
}
