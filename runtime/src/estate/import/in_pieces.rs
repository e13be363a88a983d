//! Reading `evidence.csv`, by far an estate's largest file, in pieces on every core: one thread
//! reads the file a piece of whole lines at a time (see [`Pieces`]) and hands each to a thread
//! that reads its rows, then gathers the rows in file order. The file is never held whole, and
//! the pieces' buffers and lists are reused, so the memory the kernel has to hand out fresh is
//! about that of the rows alone.
//!
//! Reading in pieces reports nothing: at the first problem it gives up, and the caller reads the
//! file in one go, so that problems are reported exactly as always.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex, mpsc};

use tally_compiler::diagnostics::SourceFile;

use super::super::csv_reader::{self, Piece, Pieces, Table};
use super::super::model::{Evidence, Interner};
use super::super::values::Checker;
use super::{EVIDENCE_COLUMNS, read_evidence_rows};

/// How `evidence.csv` is read in pieces.
#[derive(Debug, Clone, Copy)]
pub(super) struct InPieces {
    /// Threads reading pieces' rows.
    pub threads: usize,
    /// About how many bytes a piece has.
    pub size: usize,
    /// Below this many bytes the file is read in one go.
    pub least: u64,
}

impl InPieces {
    pub fn here() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            size: 32 << 20,
            least: 1 << 22,
        }
    }
}

/// A piece for a thread to read: where its rows start in it and the lines of the file before
/// there (after the header, in the first), and a list to read them into.
struct Job {
    index: usize,
    piece: Piece,
    start: (usize, usize),
    rows: Vec<Evidence>,
}

/// A piece as read: its rows and the interner holding their texts, `None` when reading it
/// reported a problem; and its bytes, for the next piece to be read into.
struct Done {
    index: usize,
    read: Option<(Vec<Evidence>, Interner)>,
    bytes: Vec<u8>,
}

/// Reads the rows of `evidence.csv` (`shown` is its path), which `read` gives and which has
/// about `len` bytes, in pieces on several threads, gathering each piece as soon as it and
/// those before it are read: the rows come out as reading the file in one go gives them, with
/// each distinct text held once. `None` when the file is smaller than `how.least`, and when
/// reading reports any problem.
pub(super) fn read_evidence_in_pieces(
    read: impl Read,
    len: u64,
    shown: &str,
    how: InPieces,
) -> Option<Vec<Evidence>> {
    if len < how.least {
        return None;
    }
    let mut pieces = Pieces::new(read, how.size);
    let first = pieces.next(Vec::new()).ok()??;
    // The header, read from a copy of the first piece; a text that is not UTF-8 fails here.
    let head = SourceFile::new(shown, std::str::from_utf8(&first.bytes).ok()?);
    let mut check = Checker::new(&head);
    let header = csv_reader::read(&mut check, &head, EVIDENCE_COLUMNS);
    if !check.is_clean() || !header.complete {
        return None;
    }
    // Rows' problems are not reported from here: they point into this empty text.
    let nowhere = SourceFile::new(shown, "");
    let (jobs_in, jobs) = mpsc::channel::<Job>();
    let jobs = Mutex::new(jobs);
    let (done_in, done) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for _ in 0..how.threads.max(1) {
            let (jobs, done_in, header, nowhere) = (&jobs, done_in.clone(), &header, &nowhere);
            scope.spawn(move || {
                while let Some(job) = next_job(jobs) {
                    if done_in.send(read_piece(job, header, nowhere)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_in);
        let rows = estimated_rows(len, &first);
        let feed = Feed {
            pieces,
            first: Some((first, header.position())),
            jobs: jobs_in,
            out: how.threads + 2,
        };
        // Returning drops the queue of jobs, so the threads stop.
        feed.gather(&done, rows)
    })
}

/// The next job from the queue shared by the threads; `None` once it is closed.
fn next_job(jobs: &Mutex<mpsc::Receiver<Job>>) -> Option<Job> {
    let queue = jobs.lock().ok()?;
    queue.recv().ok()
}

/// Reads a piece's rows with the header's columns.
fn read_piece(job: Job, header: &Table<'_>, nowhere: &Arc<SourceFile>) -> Done {
    let Job {
        index,
        piece,
        start,
        mut rows,
    } = job;
    let text = match String::from_utf8(piece.bytes) {
        Ok(text) => text,
        Err(e) => {
            return Done {
                index,
                read: None,
                bytes: e.into_bytes(),
            };
        }
    };
    let read = {
        let mut check = Checker::new(nowhere);
        let mut table = header.resume_over(&text, start.0, start.1);
        let strings = read_evidence_rows(&mut table, &mut check, nowhere, None, &mut rows);
        (check.is_clean() && table.complete).then_some((rows, strings))
    };
    Done {
        index,
        read,
        bytes: text.into_bytes(),
    }
}

/// About how many rows a file of `len` bytes holds, from its first piece, with room to spare:
/// room never filled takes no memory, while a list that outgrows its room is copied.
fn estimated_rows(len: u64, first: &Piece) -> usize {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let rows = (len / first.bytes.len().max(1)).saturating_add(1) * first.lines;
    rows.saturating_add(rows / 8)
}

/// The reading side of [`read_evidence_in_pieces`]: pieces not yet handed out, and how many
/// may be out at once.
struct Feed<R> {
    pieces: Pieces<R>,
    /// The first piece, already read, with where its rows start.
    first: Option<(Piece, (usize, usize))>,
    jobs: mpsc::Sender<Job>,
    out: usize,
}

impl<R: Read> Feed<R> {
    /// Hands out pieces, a few at a time, and gathers their rows in file order, reusing each
    /// gathered piece's buffers for the next.
    fn gather(mut self, done: &mpsc::Receiver<Done>, rows: usize) -> Option<Vec<Evidence>> {
        let mut records: Vec<Evidence> = Vec::with_capacity(rows);
        let mut strings: Option<Interner> = None;
        let mut spare: Vec<(Vec<u8>, Vec<Evidence>)> = Vec::new();
        let mut waiting: BTreeMap<usize, Done> = BTreeMap::new();
        let (mut sent, mut gathered, mut ended) = (0, 0, false);
        loop {
            while !ended && sent - gathered < self.out {
                let (bytes, rows) = spare.pop().unwrap_or_default();
                let Some((piece, start)) = self.next_piece(bytes)? else {
                    ended = true;
                    break;
                };
                let room = piece.lines + 1;
                let job = Job {
                    index: sent,
                    piece,
                    start,
                    rows: with_room(rows, room),
                };
                self.jobs.send(job).ok()?;
                sent += 1;
            }
            if sent == gathered {
                return Some(records);
            }
            let piece = done.recv().ok()?;
            waiting.insert(piece.index, piece);
            while let Some(piece) = waiting.remove(&gathered) {
                let (mut rows, texts) = piece.read?;
                match &mut strings {
                    None => strings = Some(texts),
                    Some(strings) => {
                        // One copy of each text, as one reader would have made.
                        let shared = strings.adopt(texts);
                        rows.iter_mut().for_each(|row| row.share_texts(&shared));
                    }
                }
                records.append(&mut rows);
                spare.push((piece.bytes, rows));
                gathered += 1;
            }
        }
    }

    /// The next piece and where its rows start; `None` at the end of the file.
    fn next_piece(&mut self, bytes: Vec<u8>) -> Option<Option<(Piece, (usize, usize))>> {
        if let Some(first) = self.first.take() {
            return Some(Some(first));
        }
        let piece = self.pieces.next(bytes).ok()?;
        Some(piece.map(|piece| {
            let lines_before = piece.lines_before;
            (piece, (0, lines_before))
        }))
    }
}

/// An empty list with room for `rows` rows, reusing `list`.
fn with_room(mut list: Vec<Evidence>, rows: usize) -> Vec<Evidence> {
    list.clear();
    list.reserve(rows);
    list
}
