//! Reading input files safely. Rule packs and estates arrive from pull requests and from
//! other systems' exports, so a file is read only if it is a regular file whose real location
//! lies inside the folder it was found in (a link may point elsewhere inside it), it is no
//! larger than a limit, and it is UTF-8 text. Anything else is an error that says which.
//!
//! Files are written whole: [`write_by_rename`] writes beside the file's place and renames
//! into it, so no reader sees a file half written.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use tally_compiler::diagnostics::{SourceFile, Span};

/// The largest estate file read: 2 GiB.
pub const MAX_ESTATE_FILE: u64 = 2 << 30;
/// The largest rule file or script read: 16 MiB.
pub const MAX_RULE_FILE: u64 = 16 << 20;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system refused: missing, no permission, and the like.
    Io(std::io::Error),
    /// Not a regular file: what it is instead, such as "a named pipe (FIFO)".
    NotRegular(&'static str),
    /// A link that leads outside the folder; its target as written in the link (not as
    /// resolved, which would show where the folder lies on this machine).
    Outside(PathBuf),
    /// A link that leads nowhere: broken, or a loop of links.
    BrokenLink,
    /// Larger than the limit.
    TooLarge { limit: u64 },
    /// Not UTF-8: the file as far as it could be decoded, with the first bad byte's offset.
    NotUtf8 { lossy: String, offset: usize },
    /// UTF-16 text, as its byte-order mark shows. None of it is shown: as UTF-8 it is noise.
    Utf16,
    /// A UTF-16 byte-order mark followed by what is not UTF-16 text (an odd number of bytes,
    /// or a lone surrogate), where UTF-16 is read.
    NotUtf16,
}

impl ReadError {
    /// Whether the file is simply not there, which some callers allow.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    /// Whether the file was refused for what it is rather than failing to read.
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            Self::NotRegular(_) | Self::Outside(_) | Self::BrokenLink | Self::TooLarge { .. }
        )
    }

    /// The reason in words, to follow "cannot read `file`: ".
    pub fn reason(&self, path: &Path) -> String {
        match self {
            Self::Io(e) => match e.kind() {
                std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                _ => e.to_string(),
            },
            Self::NotRegular(what) => format!("it is {what}, not a regular file"),
            Self::Outside(target) => format!(
                "it is a link to `{}`, which leads outside the folder `{}`",
                target.display(),
                path.parent().unwrap_or(Path::new(".")).display()
            ),
            Self::BrokenLink => {
                "it is a link that leads nowhere (broken, or a loop of links)".to_owned()
            }
            Self::TooLarge { limit } => {
                format!("it is larger than the limit of {}", size(*limit))
            }
            Self::NotUtf8 { offset, .. } => {
                format!("it is not UTF-8 text: the byte at offset {offset} is not valid")
            }
            Self::Utf16 => {
                "it is UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8".to_owned()
            }
            Self::NotUtf16 => {
                "it starts with a UTF-16 byte-order mark but is not valid UTF-16 text".to_owned()
            }
        }
    }

    /// What to do about a refused file (see [`ReadError::is_refused`]): `what` names the files
    /// (`estate files`) and `folder` their folder (`the estate folder`).
    pub fn refusal_help(&self, what: &str, folder: &str) -> String {
        match self {
            Self::TooLarge { limit } => {
                format!("{what} may be at most {}; split the file", size(*limit))
            }
            Self::Outside(_) | Self::BrokenLink => {
                format!("put the file itself in {folder}, or a link to a file inside it")
            }
            _ => format!("{what} must be regular files: replace it with one"),
        }
    }

    /// A source to point a diagnostic into, and the span of the first bad byte when the text
    /// is not UTF-8; an empty source otherwise.
    pub fn source(self, shown: &str) -> (Arc<SourceFile>, Option<Span>) {
        match self {
            Self::NotUtf8 { lossy, offset } => {
                let end = offset
                    + lossy
                        .get(offset..)
                        .and_then(|s| s.chars().next())
                        .map_or(0, char::len_utf8);
                (SourceFile::new(shown, lossy), Some(Span::new(offset, end)))
            }
            _ => (SourceFile::new(shown, ""), None),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Reads `path` as text, if it is a regular file no larger than `limit` bytes whose real
/// location lies inside the folder `root`.
pub fn read_text(path: &Path, root: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bytes(path, root, limit)?;
    // No UTF-8 text starts with these bytes, which Windows tools write first in UTF-16.
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(ReadError::Utf16);
    }
    utf8(bytes)
}

/// Reads `path` as bytes, if it is a regular file no larger than `limit` bytes whose real
/// location lies inside the folder `root`.
pub fn read_bytes(path: &Path, root: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, len) = open(path, root, limit)?;
    // Room for the whole file at once: grown by doubling, a file of a gigabyte or two would be
    // copied over and over as it is read.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Opens `path` to be read, if it is a regular file no larger than `limit` bytes whose real
/// location lies inside the folder `root`: the file, and its length when opened. A reader
/// must still stop at `limit` bytes, since the file may grow.
pub fn open(path: &Path, root: &Path, limit: u64) -> Result<(fs::File, u64), ReadError> {
    check_inside(path, root)?;
    let metadata = fs::metadata(path)?;
    if let Some(what) = not_regular(&metadata.file_type()) {
        return Err(ReadError::NotRegular(what));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok((fs::File::open(path)?, metadata.len()))
}

/// The bytes as UTF-8 text, or where they stop being UTF-8.
pub fn utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        ReadError::NotUtf8 {
            lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            offset,
        }
    })
}

/// Writes the file at `path` through `write`, creating its folder when missing: into a new
/// temporary file beside it, flushed and synced, then renamed into place, so the file is never
/// seen half written. The temporary file must be new: an existing one, or a link in its place,
/// is an error rather than something written through. Returns what `write` returns.
pub fn write_by_rename<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(std::io::Error::other("not a file path"));
    };
    if !folder.as_os_str().is_empty() {
        fs::create_dir_all(folder)?;
    }
    let temporary = folder.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)?;
    let written = (|| {
        let mut writer = BufWriter::with_capacity(1 << 16, file);
        let value = write(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        drop(writer);
        fs::rename(&temporary, path)?;
        Ok(value)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Checks that `path`, if it is a link, leads to a place inside the folder `root`.
pub fn check_inside(path: &Path, root: &Path) -> Result<(), ReadError> {
    let link = fs::symlink_metadata(path)?;
    if !link.file_type().is_symlink() {
        return Ok(());
    }
    let target = fs::canonicalize(path).map_err(|_| ReadError::BrokenLink)?;
    let root = fs::canonicalize(root)?;
    if target.starts_with(&root) {
        Ok(())
    } else {
        Err(ReadError::Outside(fs::read_link(path).unwrap_or(target)))
    }
}

/// What a file type is when it is not a regular file or a folder.
fn not_regular(kind: &fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// A size limit in the largest binary unit that divides it: `2 GiB`, `16 MiB`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}
