//! The run lock: an exclusive advisory lock on a file next to the checkpoint database. The
//! kernel releases it when the holder dies, so a lock left by a killed run is never stale; the
//! file's text says who holds it and since when, for the run that is turned away.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock at once or fails with `Error::Locked` naming the holder.
    pub fn acquire(path: &Path, run_id: &str) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(format!("opening the run lock {}", path.display()), e))?;
        if let Err(e) = file.try_lock() {
            if let std::fs::TryLockError::Error(e) = e {
                return Err(Error::io(format!("locking {}", path.display()), e));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "an unknown process"
            } else {
                holder
            };
            return Err(Error::Locked(format!(
                "{holder} (lock file {})",
                path.display()
            )));
        }
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        let text = format!(
            "run {run_id}, pid {} on {}, since {}",
            std::process::id(),
            host.trim(),
            super::now()
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_turned_away_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.db.lock");
        let first = RunLock::acquire(&path, "run-1").unwrap();
        let err = RunLock::acquire(&path, "run-2").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("run run-1"), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert_eq!(err.exit_code(), crate::error::exit::LOCKED);
        drop(first);
        RunLock::acquire(&path, "run-3").expect("free again after the holder is gone");
    }
}
