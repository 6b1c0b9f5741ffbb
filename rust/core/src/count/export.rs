//! Handing counted keys out in a defined order, as Arrow record batches.
//!
//! Internal ids depend on which thread met a word first, so export maps them to ranks of the
//! token text (byte order) before sorting. The order is count descending, then the n-gram's
//! tokens ascending: identical for every thread count and shard split.

use std::cmp::Reverse;
use std::sync::Arc;

use arrow_array::builder::LargeStringBuilder;
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::key::NKey;
use super::vocab::Strings;
use super::{DiskPartitioned, Partitioned};
use crate::error::Result;

/// Which keys to export.
#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    pub min_count: Option<u64>,
    pub max_count: Option<u64>,
    /// Keep the k most frequent (after the count filters).
    pub top_k: Option<usize>,
}

impl KeyFilter {
    fn admits(&self, c: u64) -> bool {
        self.min_count.is_none_or(|m| c >= m) && self.max_count.is_none_or(|m| c <= m)
    }
}

/// Exported keys: row i is tokens `ids[i*n..(i+1)*n]` (ranks into `vocab`) with `counts[i]`.
pub struct ExportedKeys {
    pub n: usize,
    pub ids: Vec<u32>,
    pub counts: Vec<u64>,
    pub vocab: Arc<Strings>,
}

impl ExportedKeys {
    pub fn len(&self) -> usize {
        self.counts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
    pub fn tokens(&self, row: usize) -> impl Iterator<Item = &[u8]> {
        self.ids[row * self.n..(row + 1) * self.n]
            .iter()
            .map(|&id| self.vocab.get(id))
    }

    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("ngram", DataType::LargeUtf8, false),
            Field::new("count", DataType::UInt64, false),
        ]))
    }

    /// Rows `from..to` as a record batch (ngram: tokens joined by one space).
    pub fn batch(&self, from: usize, to: usize) -> RecordBatch {
        let to = to.min(self.len());
        let mut b = LargeStringBuilder::with_capacity(
            to.saturating_sub(from),
            (to - from.min(to)) * 8 * self.n,
        );
        let mut line = Vec::with_capacity(64);
        for row in from..to {
            line.clear();
            for (j, t) in self.tokens(row).enumerate() {
                if j > 0 {
                    line.push(b' ');
                }
                line.extend_from_slice(t);
            }
            // Tokens come from validated UTF-8 text, so the join is UTF-8 too.
            b.append_value(String::from_utf8_lossy(&line));
        }
        let ngram: ArrayRef = Arc::new(b.finish());
        let count: ArrayRef = Arc::new(UInt64Array::from(self.counts[from.min(to)..to].to_vec()));
        // Both columns have the schema's types and equal lengths, so this cannot fail.
        RecordBatch::try_new(Self::schema(), vec![ngram, count])
            .unwrap_or_else(|_| RecordBatch::new_empty(Self::schema()))
    }
}

pub(crate) trait KeyTable: Send + Sync {
    fn export(&self, filter: &KeyFilter) -> Result<ExportedKeys>;
    /// All keys in no particular order, with the internal ids and vocabulary; consumes the
    /// table partition by partition so peak memory stays near one copy of the keys.
    fn into_unordered(self: Box<Self>) -> Result<ExportedKeys>;
}

/// Vocabulary sorted by text: (rank -> text, id -> rank).
fn ranks(vocab: &Strings) -> (Strings, Vec<u32>) {
    let mut order: Vec<u32> = (0..vocab.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| vocab.get(a).cmp(vocab.get(b)));
    let mut rank = vec![0u32; vocab.len()];
    let mut sorted = Strings::default();
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r as u32;
        sorted.push(vocab.get(id));
    }
    (sorted, rank)
}

/// Export keys handed over partition by partition by `each_partition`, which calls its
/// argument once per (key, count).
pub(crate) fn export_keys<K: NKey>(
    n: usize,
    vocab: &Strings,
    filter: &KeyFilter,
    each_partition: impl FnOnce(&mut dyn FnMut(K, u64)) -> Result<()>,
) -> Result<ExportedKeys> {
    let (sorted_vocab, rank) = ranks(vocab);
    let mut rows: Vec<(Reverse<u64>, K)> = Vec::new();
    let mut ids = [0u32; 8];
    each_partition(&mut |k: K, c: u64| {
        if !filter.admits(c) {
            return;
        }
        let mut ids = [0u32; 8];
        k.unpack(n, &mut ids);
        for id in &mut ids[..n] {
            *id = rank[*id as usize];
        }
        rows.push((Reverse(c), K::pack(&ids[..n])));
    })?;
    if let Some(k) = filter.top_k {
        if k < rows.len() {
            if k > 0 {
                rows.select_nth_unstable(k - 1);
            }
            rows.truncate(k);
        }
    }
    rows.sort_unstable();
    let mut flat = Vec::with_capacity(rows.len() * n);
    let mut counts = Vec::with_capacity(rows.len());
    for (Reverse(c), k) in rows {
        k.unpack(n, &mut ids);
        flat.extend_from_slice(&ids[..n]);
        counts.push(c);
    }
    Ok(ExportedKeys {
        n,
        ids: flat,
        counts,
        vocab: Arc::new(sorted_vocab),
    })
}

impl<K: NKey> KeyTable for Partitioned<K> {
    fn export(&self, filter: &KeyFilter) -> Result<ExportedKeys> {
        export_keys::<K>(self.n, &self.vocab, filter, |f| {
            for part in &self.partitions {
                for (&k, &c) in part.keys.iter().zip(&part.counts) {
                    f(k, c);
                }
            }
            Ok(())
        })
    }

    fn into_unordered(self: Box<Self>) -> Result<ExportedKeys> {
        let table = *self;
        let n = table.n;
        let total: usize = table.partitions.iter().map(|p| p.len()).sum();
        let mut flat = Vec::with_capacity(total * n);
        let mut counts = Vec::with_capacity(total);
        let mut ids = [0u32; 8];
        for part in table.partitions {
            for (&k, &c) in part.keys.iter().zip(&part.counts) {
                k.unpack(n, &mut ids);
                flat.extend_from_slice(&ids[..n]);
                counts.push(c);
            }
        }
        // The partitions were freed between other allocations: return their pages.
        crate::memory::release_free_memory();
        Ok(ExportedKeys {
            n,
            ids: flat,
            counts,
            vocab: Arc::new(table.vocab),
        })
    }
}

impl<K: NKey> KeyTable for DiskPartitioned<K> {
    fn into_unordered(self: Box<Self>) -> Result<ExportedKeys> {
        let table = *self;
        let n = table.n;
        let mut flat = Vec::new();
        let mut counts = Vec::new();
        let mut ids = [0u32; 8];
        for s in &table.sections {
            super::spill::merge_sections::<K>(std::slice::from_ref(s), |k, c| {
                k.unpack(n, &mut ids);
                flat.extend_from_slice(&ids[..n]);
                counts.push(c);
                Ok(())
            })?;
        }
        Ok(ExportedKeys {
            n,
            ids: flat,
            counts,
            vocab: Arc::new(table.vocab),
        })
    }

    fn export(&self, filter: &KeyFilter) -> Result<ExportedKeys> {
        export_keys::<K>(self.n, &self.vocab, filter, |f| {
            for s in &self.sections {
                super::spill::merge_sections::<K>(std::slice::from_ref(s), |k, c| {
                    f(k, c);
                    Ok(())
                })?;
            }
            Ok(())
        })
    }
}

/// Streams exported keys as record batches of `batch_rows` rows.
pub struct KeyReader {
    keys: ExportedKeys,
    next: usize,
    batch_rows: usize,
}

impl ExportedKeys {
    pub fn into_reader(self, batch_rows: usize) -> KeyReader {
        KeyReader {
            keys: self,
            next: 0,
            batch_rows: batch_rows.max(1),
        }
    }
}

impl Iterator for KeyReader {
    type Item = std::result::Result<RecordBatch, arrow_schema::ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.keys.len() {
            return None;
        }
        let to = (self.next + self.batch_rows).min(self.keys.len());
        let batch = self.keys.batch(self.next, to);
        self.next = to;
        Some(Ok(batch))
    }
}

impl arrow_array::RecordBatchReader for KeyReader {
    fn schema(&self) -> SchemaRef {
        ExportedKeys::schema()
    }
}
