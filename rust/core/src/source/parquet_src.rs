//! Parquet files and in-memory Arrow batches: a document per row of a text column.
//!
//! Parquet is read one row group at a time, projected to the text column alone, so memory is one
//! decoded row group's column. Each row group is a shard.

use std::fs::File;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use super::{arrow_input_name, InputFile, OnBadRecord, ReadStats, SourceOptions};
use crate::error::{CoreError, Position, Result};
use crate::progress::Progress;

fn builder(file: &InputFile) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let f = File::open(&file.path)
        .map_err(|e| CoreError::input(&file.path, Position::none(), format!("cannot open: {e}")))?;
    ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| {
        CoreError::input(
            &file.path,
            Position::none(),
            format!("not a readable Parquet file: {e}"),
        )
    })
}

/// Row groups with the index of their first row.
pub(super) fn row_groups(file: &InputFile) -> Result<Vec<(usize, u64)>> {
    let b = builder(file)?;
    let mut first = 0u64;
    let mut out = Vec::new();
    for (i, rg) in b.metadata().row_groups().iter().enumerate() {
        out.push((i, first));
        first += rg.num_rows().max(0) as u64;
    }
    Ok(out)
}

fn text_column_error(
    path: &std::path::Path,
    field: &str,
    found: Option<&DataType>,
    names: &[String],
) -> CoreError {
    match found {
        Some(t) => CoreError::input(
            path,
            Position::none(),
            format!("column {field:?} has type {t}, not text (string)"),
        ),
        None => CoreError::input(
            path,
            Position::none(),
            format!(
                "no column {field:?} (columns: {}); set text_field=",
                names.join(", ")
            ),
        ),
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

pub(super) fn read_row_group(
    file: &InputFile,
    row_group: usize,
    first_row: u64,
    opts: &SourceOptions,
    progress: &Progress,
    visit: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<ReadStats> {
    let b = builder(file)?;
    let schema = b.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let index = names.iter().position(|n| n == &opts.text_field);
    let Some(index) = index.filter(|&i| is_text(schema.field(i).data_type())) else {
        let found = index.map(|i| schema.field(i).data_type());
        return Err(text_column_error(
            &file.path,
            &opts.text_field,
            found,
            &names,
        ));
    };
    let compressed: u64 = b
        .metadata()
        .row_groups()
        .get(row_group)
        .map_or(0, |rg| rg.compressed_size().max(0) as u64);
    let mask = ProjectionMask::roots(b.parquet_schema(), [index]);
    let reader = b
        .with_projection(mask)
        .with_row_groups(vec![row_group])
        .with_batch_size(8192)
        .build()
        .map_err(|e| CoreError::input(&file.path, Position::none(), format!("cannot read: {e}")))?;
    let mut stats = ReadStats::default();
    let mut row = first_row;
    for batch in reader {
        let batch = batch.map_err(|e| {
            CoreError::input(
                &file.path,
                Position::at(Some(row + 1), None),
                format!("corrupt Parquet data in row group {row_group}: {e}"),
            )
        })?;
        let s = visit_column(batch.column(0).as_ref(), row, &file.path, opts, visit)?;
        row += batch.num_rows() as u64;
        progress.add(0, s.documents, 0);
        stats.add(&s);
        progress.check()?;
    }
    stats.bytes = compressed;
    progress.add(compressed, 0, 0);
    Ok(stats)
}

pub(super) fn read_batches(
    batches: &[RecordBatch],
    first_row: u64,
    opts: &SourceOptions,
    progress: &Progress,
    visit: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<ReadStats> {
    let path = arrow_input_name();
    let mut stats = ReadStats::default();
    let mut row = first_row;
    for batch in batches {
        let schema = batch.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let index = names.iter().position(|n| n == &opts.text_field);
        let Some(index) = index.filter(|&i| is_text(schema.field(i).data_type())) else {
            let found = index.map(|i| schema.field(i).data_type());
            return Err(text_column_error(&path, &opts.text_field, found, &names));
        };
        let s = visit_column(batch.column(index).as_ref(), row, &path, opts, visit)?;
        row += batch.num_rows() as u64;
        let bytes = batch.column(index).get_array_memory_size() as u64;
        progress.add(bytes, s.documents, 0);
        stats.add(&s);
        stats.bytes += bytes;
        progress.check()?;
    }
    Ok(stats)
}

fn visit_column(
    column: &dyn Array,
    first_row: u64,
    path: &std::path::Path,
    opts: &SourceOptions,
    visit: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut one = |i: usize, text: Option<&str>, stats: &mut ReadStats| -> Result<()> {
        match text {
            Some(t) if t.len() <= opts.max_document_bytes => {
                visit(t)?;
                stats.documents += 1;
                Ok(())
            }
            _ if opts.on_bad_record == OnBadRecord::Skip => {
                stats.skipped_documents += 1;
                Ok(())
            }
            Some(t) => Err(CoreError::input(
                path,
                Position::at(Some(first_row + i as u64 + 1), None),
                format!(
                    "a {}-byte document, longer than the limit of {} bytes; raise \
                     max_document_bytes or pass on_bad_record=\"skip\"",
                    t.len(),
                    opts.max_document_bytes
                ),
            )),
            None => Err(CoreError::input(
                path,
                Position::at(Some(first_row + i as u64 + 1), None),
                format!(
                    "null in text column {:?} (pass on_bad_record=\"skip\" to skip nulls)",
                    opts.text_field
                ),
            )),
        }
    };
    match column.data_type() {
        DataType::Utf8 => {
            let a = column.as_string::<i32>();
            for i in 0..a.len() {
                one(i, a.is_valid(i).then(|| a.value(i)), &mut stats)?;
            }
        }
        DataType::LargeUtf8 => {
            let a = column.as_string::<i64>();
            for i in 0..a.len() {
                one(i, a.is_valid(i).then(|| a.value(i)), &mut stats)?;
            }
        }
        DataType::Utf8View => {
            let a = column.as_string_view();
            for i in 0..a.len() {
                one(i, a.is_valid(i).then(|| a.value(i)), &mut stats)?;
            }
        }
        other => {
            return Err(CoreError::input(
                path,
                Position::none(),
                format!("text column has type {other}"),
            ))
        }
    }
    Ok(stats)
}
