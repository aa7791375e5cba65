//! The page spool: the raw bodies of the pages that went into the Parquet file being filled,
//! appended and fsync'ed one by one, so that each page can be committed in the checkpoint as
//! soon as it is read. After a crash the file is cut back to the length the checkpoint
//! committed and its pages are decoded again into a new Parquet file: a resumed window re-reads
//! at most the one page that was in flight.
//!
//! Format: each page is a little-endian `u32` length followed by that many bytes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub struct PageSpool {
    file: File,
    path: PathBuf,
    len: u64,
}

impl PageSpool {
    /// Opens the spool at `path` holding `committed` bytes of committed pages (0 for a new
    /// one), drops anything written after them, and returns the committed pages.
    pub fn open(path: &Path, committed: u64) -> Result<(Self, Vec<Vec<u8>>)> {
        let context = |what: &str| format!("{what} the page spool {}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(context("creating the folder of"), e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(committed == 0)
            .open(path)
            .map_err(|e| Error::io(context("opening"), e))?;
        let on_disk = file
            .metadata()
            .map_err(|e| Error::io(context("reading"), e))?
            .len();
        if on_disk < committed {
            return Err(Error::Checkpoint(format!(
                "{} holds {on_disk} bytes but the checkpoint committed {committed}; the spool \
                 was changed outside zuora-sync. `zuora-sync state reset <object>` starts the \
                 object over",
                path.display()
            )));
        }
        file.set_len(committed)
            .map_err(|e| Error::io(context("truncating"), e))?;
        let pages =
            read_pages(&mut file, committed).map_err(|e| Error::io(context("reading"), e))?;
        file.seek(SeekFrom::End(0))
            .map_err(|e| Error::io(context("seeking in"), e))?;
        Ok((
            Self {
                file,
                path: path.to_path_buf(),
                len: committed,
            },
            pages,
        ))
    }

    /// Appends one page and makes it durable; returns the spool's new length, which the caller
    /// commits in the checkpoint.
    pub fn append(&mut self, page: &[u8]) -> Result<u64> {
        let length = u32::try_from(page.len())
            .map_err(|_| Error::Source(format!("a page of {} bytes is too large", page.len())))?;
        let written = self
            .file
            .write_all(&length.to_le_bytes())
            .and_then(|()| self.file.write_all(page))
            .and_then(|()| self.file.sync_data());
        written.map_err(|e| Error::io(format!("appending to {}", self.path.display()), e))?;
        self.len += 4 + page.len() as u64;
        Ok(self.len)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Deletes the spool once its pages are in a committed Parquet file.
    pub fn remove(self) {
        drop(self.file);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn read_pages(file: &mut File, len: u64) -> std::io::Result<Vec<Vec<u8>>> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes)?;
    let mut pages = Vec::new();
    let mut rest = bytes.as_slice();
    while rest.len() >= 4 {
        let (head, tail) = rest.split_at(4);
        let length = u32::from_le_bytes(head.try_into().expect("four bytes")) as usize;
        if tail.len() < length {
            break;
        }
        pages.push(tail[..length].to_vec());
        rest = &tail[length..];
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_pages_survive_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/w1-0.parquet.pages");
        let (mut spool, pages) = PageSpool::open(&path, 0).unwrap();
        assert!(pages.is_empty());
        let first = spool.append(b"page one").unwrap();
        let second = spool.append(b"page two").unwrap();
        assert_eq!(second, first + 4 + 8);
        drop(spool);
        // A page that was being appended when the process died, never committed.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[9, 0, 0, 0, b'x']).unwrap();

        let (spool, pages) = PageSpool::open(&path, second).unwrap();
        assert_eq!(pages, [b"page one".to_vec(), b"page two".to_vec()]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), second);
        spool.remove();
        assert!(!path.exists());
    }

    #[test]
    fn a_spool_shorter_than_committed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w1-0.parquet.pages");
        std::fs::write(&path, b"").unwrap();
        let err = PageSpool::open(&path, 100).err().unwrap();
        assert!(err.to_string().contains("state reset"), "{err}");
    }
}
