//! Where warmup's Redis route takes its batches from: a checked plan already in memory, or a
//! file read by a parser thread that keys the next batches while the server works through
//! the ones sent. For the plain RESP connection the thread also encodes each batch, so the
//! writer only copies bytes to the socket and nothing is allocated per line.

use crate::ops::resp_conn::push_set;
use crate::ops::warmup::{BadLine, LineParser, WarmupEntry, WarmupOptions};
use std::borrow::Cow;
use std::io::BufRead;
use tokio::sync::mpsc;

/// Batches the parser may run ahead of the writes, bounding the memory a large file takes.
const QUEUED_BATCHES: usize = 8;

pub(crate) type Bad<'a> = &'a mut (dyn FnMut(&BadLine) + Send);

/// One batch for the sink.
pub(crate) enum Sets<'a> {
    /// Entries, for redis-rs (a cluster groups them by slot).
    Entries(Cow<'a, [WarmupEntry]>),
    /// `count` SETs already encoded as RESP, for the plain connection.
    Resp { buf: Vec<u8>, count: usize },
}

/// How the parser thread hands batches over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Entries,
    Resp,
}

/// Up to `batch_size` SETs, the bad lines met on the way, and the bytes they took.
pub(crate) struct Chunk {
    entries: Vec<WarmupEntry>,
    resp: Vec<u8>,
    count: usize,
    bad: Vec<BadLine>,
    bytes: u64,
}

pub(crate) enum Source<'a> {
    Plan {
        chunks: std::slice::Chunks<'a, WarmupEntry>,
        total: u64,
        bad: u64,
    },
    /// A file, read once [`Source::start`] knows how the sink takes its batches.
    File {
        file: Option<std::fs::File>,
        opts: WarmupOptions,
    },
    Stream {
        rx: mpsc::Receiver<std::io::Result<Chunk>>,
        file_len: u64,
        bytes: u64,
        entries: u64,
        bad: u64,
        done: bool,
    },
}

impl<'a> Source<'a> {
    pub(crate) fn plan(entries: &'a [WarmupEntry], bad: usize, batch: usize) -> Source<'a> {
        Source::Plan {
            chunks: entries.chunks(batch.max(1)),
            total: entries.len() as u64,
            bad: bad as u64,
        }
    }

    pub(crate) fn file(file: std::fs::File, opts: &WarmupOptions) -> Source<'a> {
        Source::File {
            file: Some(file),
            opts: opts.clone(),
        }
    }

    /// Starts reading a file, in batches encoded as `encoding`; a plan is ready as it is.
    pub(crate) fn start(&mut self, encoding: Encoding) -> std::io::Result<()> {
        let Source::File { file, opts } = self else {
            return Ok(());
        };
        let Some(file) = file.take() else {
            return Ok(());
        };
        let file_len = file.metadata()?.len();
        let (tx, rx) = mpsc::channel(QUEUED_BATCHES);
        let opts = opts.clone();
        std::thread::Builder::new()
            .name("warmup-parse".into())
            .spawn(move || produce(file, &opts, encoding, tx))?;
        *self = Source::Stream {
            rx,
            file_len,
            bytes: 0,
            entries: 0,
            bad: 0,
            done: false,
        };
        Ok(())
    }

    pub(crate) async fn next(&mut self, on_bad: Bad<'_>) -> std::io::Result<Option<Sets<'a>>> {
        match self {
            Source::Plan { chunks, .. } => {
                Ok(chunks.next().map(|c| Sets::Entries(Cow::Borrowed(c))))
            }
            Source::File { .. } => Ok(None),
            Source::Stream {
                rx,
                bytes,
                entries,
                bad,
                done,
                ..
            } => loop {
                let Some(chunk) = rx.recv().await else {
                    *done = true;
                    return Ok(None);
                };
                let chunk = chunk?;
                *bytes += chunk.bytes;
                *entries += chunk.count as u64;
                *bad += chunk.bad.len() as u64;
                chunk.bad.iter().for_each(&mut *on_bad);
                if chunk.count == 0 {
                    continue;
                }
                return Ok(Some(if chunk.entries.is_empty() {
                    Sets::Resp {
                        buf: chunk.resp,
                        count: chunk.count,
                    }
                } else {
                    Sets::Entries(Cow::Owned(chunk.entries))
                }));
            },
        }
    }

    /// Entries in the file; while a stream is still being read, extrapolated from the bytes
    /// read so far, so the progress bar has an ETA from the first batch.
    pub(crate) fn total(&self) -> u64 {
        match *self {
            Source::Plan { total, .. } => total,
            Source::File { .. } => 0,
            Source::Stream { entries, done, .. } if done => entries,
            Source::Stream {
                file_len,
                bytes,
                entries,
                ..
            } => {
                let left = file_len.saturating_sub(bytes) as f64;
                entries + (left * entries as f64 / bytes.max(1) as f64) as u64
            }
        }
    }

    pub(crate) fn bad(&self) -> u64 {
        match *self {
            Source::Plan { bad, .. } | Source::Stream { bad, .. } => bad,
            Source::File { .. } => 0,
        }
    }

    /// What a file held, for the audit's end line; `None` for a plan, counted up front, and
    /// for a file never read (the server could not be reached), whose counts stay unknown.
    pub(crate) fn counted(&self) -> Option<(u64, u64)> {
        match *self {
            Source::Stream { entries, bad, .. } => Some((entries, bad)),
            Source::File { .. } | Source::Plan { .. } => None,
        }
    }
}

fn produce(
    file: std::fs::File,
    opts: &WarmupOptions,
    encoding: Encoding,
    tx: mpsc::Sender<std::io::Result<Chunk>>,
) {
    let batch = opts.batch_size.max(1);
    let fresh = || Chunk {
        entries: Vec::with_capacity(if encoding == Encoding::Entries {
            batch
        } else {
            0
        }),
        resp: Vec::with_capacity(if encoding == Encoding::Resp {
            batch * 160
        } else {
            0
        }),
        count: 0,
        bad: Vec::new(),
        bytes: 0,
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut parser = LineParser::new(opts);
    // A line split across two reads of the file, put together.
    let mut spill = Vec::new();
    let mut chunk = fresh();
    for line in 1.. {
        // Lines are parsed where they sit in the read buffer; only a split one is copied.
        let read = reader.fill_buf().map(|buf| {
            if buf.is_empty() {
                return None;
            }
            if let Some(i) = buf.iter().position(|&b| b == b'\n') {
                take_line(&mut parser, encoding, &mut chunk, line, &buf[..i]);
                return Some(Read::Line(i + 1));
            }
            spill.clear();
            spill.extend_from_slice(buf);
            Some(Read::Split)
        });
        let used = match read {
            Ok(None) => break,
            Ok(Some(Read::Split)) => {
                let held = spill.len();
                reader.consume(held);
                match reader.read_until(b'\n', &mut spill) {
                    Ok(n) => {
                        let raw = spill.strip_suffix(b"\n").unwrap_or(&spill);
                        take_line(&mut parser, encoding, &mut chunk, line, raw);
                        chunk.bytes += (held + n) as u64;
                        0
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
            Ok(Some(Read::Line(used))) => used,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        reader.consume(used);
        chunk.bytes += used as u64;
        // A closed channel means the writer stopped (cancelled or failed): so does the parser.
        if chunk.count >= batch
            && tx
                .blocking_send(Ok(std::mem::replace(&mut chunk, fresh())))
                .is_err()
        {
            return;
        }
    }
    let _ = tx.blocking_send(Ok(chunk));
}

/// What one look at the read buffer found.
enum Read {
    /// A whole line, parsed: the bytes it took with its newline.
    Line(usize),
    /// The buffer ends inside a line, now in the spill buffer.
    Split,
}

/// One line into the chunk: its SET, or its reason for being bad; a blank line is skipped.
fn take_line(
    parser: &mut LineParser<'_>,
    encoding: Encoding,
    chunk: &mut Chunk,
    line: usize,
    raw: &[u8],
) {
    let parsed = match encoding {
        Encoding::Resp => parser.parse_with(line, raw, |k, _| {
            push_set(&mut chunk.resp, k.key, k.value, k.ttl_s);
        }),
        Encoding::Entries => parser
            .parse(line, raw)
            .map(|r| r.map(|e| chunk.entries.push(e))),
    };
    match parsed {
        Some(Ok(())) => chunk.count += 1,
        Some(Err(bad)) => chunk.bad.push(bad),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CacheConfig;
    use crate::ops::warmup::parse_jsonl;

    /// Lines of every length, split across the 1 MiB reads of the file at all sorts of
    /// places, a bad line among them and the last without its newline: the thread reads the
    /// same entries, bad lines and bytes as parsing the whole text at once, either encoding.
    #[test]
    fn lines_split_across_reads_are_read_whole() {
        let mut text = String::new();
        for i in 0..30_000 {
            let pad = "x".repeat(i * 7 % 300);
            match i % 1000 {
                500 => text.push_str("{\"question\": \"broken\"\n"),
                999 => text.push('\n'),
                _ => text.push_str(&format!(
                    "{{\"question\": \"q{i} {pad}\", \"answer\": \"a{i}\", \"context\": {{\"n\": {i}}}}}\n"
                )),
            }
        }
        text.push_str("{\"question\": \"last\", \"answer\": \"no newline\"}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.jsonl");
        std::fs::write(&path, &text).unwrap();
        let mut opts = WarmupOptions::from_config(&CacheConfig::default());
        opts.batch_size = 777;
        let want = parse_jsonl(&text, "w", &opts);
        for encoding in [Encoding::Entries, Encoding::Resp] {
            let (tx, mut rx) = mpsc::channel(4);
            let file = std::fs::File::open(&path).unwrap();
            let o = opts.clone();
            let reader = std::thread::spawn(move || produce(file, &o, encoding, tx));
            let (mut entries, mut resp, mut count, mut bad, mut bytes) =
                (Vec::new(), Vec::new(), 0, Vec::new(), 0);
            while let Some(chunk) = rx.blocking_recv() {
                let chunk = chunk.unwrap();
                assert!(chunk.count <= 777);
                entries.extend(chunk.entries);
                resp.extend(chunk.resp);
                count += chunk.count;
                bad.extend(chunk.bad);
                bytes += chunk.bytes;
            }
            reader.join().unwrap();
            assert_eq!(bytes, text.len() as u64);
            assert_eq!(bad, want.bad);
            assert_eq!(count, want.entries.len());
            if encoding == Encoding::Entries {
                assert_eq!(entries, want.entries);
            } else {
                let mut expected = Vec::new();
                for e in &want.entries {
                    push_set(&mut expected, &e.key, &e.value, e.ttl_s);
                }
                assert!(resp == expected, "the encoded SETs differ");
            }
        }
    }
}
