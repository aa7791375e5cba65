//! The contents of the Unity Catalog volumes, kept in a private temporary directory (Parquet
//! staging can reach gigabytes, more than memory should hold) that is removed with the
//! emulator. Paths are `/Volumes/<catalog>/<schema>/<volume>/<path>`; `.` and `..` segments
//! and empty segments are refused, so no request can reach outside a volume.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::grants::{Kind, Object};

/// A parsed `/Volumes/...` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VolumePath {
    pub volume: Object,
    /// The segments below the volume root; empty for the root itself.
    pub rest: Vec<String>,
    /// Whether the path was written with a trailing `/`.
    pub trailing_slash: bool,
}

impl VolumePath {
    /// `None` when the text is not a well-formed path inside a volume.
    pub fn parse(text: &str) -> Option<VolumePath> {
        let inner = text.strip_prefix("/Volumes/")?;
        let trailing_slash = inner.ends_with('/');
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        let segments: Vec<&str> = inner.split('/').collect();
        let valid = |s: &&str| !s.is_empty() && *s != "." && *s != ".." && !s.contains('\0');
        if segments.len() < 3 || !segments.iter().all(valid) {
            return None;
        }
        Some(VolumePath {
            volume: Object::new(Kind::Volume, &segments[..3]),
            rest: segments[3..].iter().map(|s| s.to_string()).collect(),
            trailing_slash,
        })
    }

    /// The canonical text: lower-case volume name, no trailing slash.
    pub fn display(&self) -> String {
        let mut text = format!("/Volumes/{}", self.volume.parts.join("/"));
        for segment in &self.rest {
            text.push('/');
            text.push_str(segment);
        }
        text
    }

    pub fn is_root(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn parent(&self) -> VolumePath {
        let mut parent = self.clone();
        parent.rest.pop();
        parent.trailing_slash = false;
        parent
    }

    pub fn join(&self, relative: &str) -> Option<VolumePath> {
        VolumePath::parse(&format!("{}/{relative}", self.display()))
    }
}

/// What a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub is_directory: bool,
    pub size: u64,
    pub modified: SystemTime,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub name: String,
    pub entry: Entry,
}

/// Why a change to a volume was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// The file exists and overwriting was not allowed.
    Exists,
    /// A directory stands where a file should go, or a file where a directory should.
    WrongKind,
    /// The parent directory does not exist.
    NoParent,
    /// Nothing is there.
    Missing,
    /// The directory still has entries.
    NotEmpty,
}

#[derive(Debug)]
pub(crate) struct VolumeStore {
    root: PathBuf,
    uploads: AtomicU64,
    /// Serialises the check-then-act of every change, so `overwrite=false` and "delete only
    /// when empty" hold under concurrent requests.
    changing: Mutex<()>,
}

/// Numbers the stores of one process, so several emulators never share a directory.
static STORES: AtomicU64 = AtomicU64::new(0);

impl VolumeStore {
    pub fn new() -> io::Result<VolumeStore> {
        let n = STORES.fetch_add(1, Ordering::Relaxed);
        let root =
            std::env::temp_dir().join(format!("zuora-sync-databricks-{}-{n}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root)?;
        }
        std::fs::create_dir_all(root.join("uploads"))?;
        std::fs::create_dir_all(root.join("volumes"))?;
        Ok(VolumeStore {
            root,
            uploads: AtomicU64::new(0),
            changing: Mutex::new(()),
        })
    }

    pub fn create_volume(&self, volume: &Object) -> io::Result<()> {
        std::fs::create_dir_all(self.volume_root(volume))
    }

    fn volume_root(&self, volume: &Object) -> PathBuf {
        let mut path = self.root.join("volumes");
        path.extend(&volume.parts);
        path
    }

    /// Where a volume path lives on disk.
    pub fn local(&self, path: &VolumePath) -> PathBuf {
        let mut local = self.volume_root(&path.volume);
        local.extend(&path.rest);
        local
    }

    pub fn entry(&self, path: &VolumePath) -> Option<Entry> {
        entry(&self.local(path))
    }

    /// The direct children of a directory, sorted by name.
    pub fn list(&self, directory: &VolumePath) -> io::Result<Vec<Listed>> {
        let mut listed = Vec::new();
        for child in std::fs::read_dir(self.local(directory))? {
            let child = child?;
            let Some(entry) = entry(&child.path()) else {
                continue;
            };
            let name = child.file_name().to_string_lossy().into_owned();
            listed.push(Listed { name, entry });
        }
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listed)
    }

    /// Every file below a directory, as paths relative to it (`a/b.parquet`), sorted.
    pub fn walk(&self, directory: &VolumePath) -> io::Result<Vec<String>> {
        let mut files = Vec::new();
        walk(&self.local(directory), "", &mut files)?;
        files.sort();
        Ok(files)
    }

    /// A fresh file outside every volume, renamed into place once complete.
    pub fn upload_file(&self) -> PathBuf {
        let n = self.uploads.fetch_add(1, Ordering::Relaxed);
        self.root.join("uploads").join(n.to_string())
    }

    /// Moves a completed upload to `target`. Parent directories are not created.
    pub fn place(
        &self,
        upload: &Path,
        target: &VolumePath,
        overwrite: bool,
    ) -> io::Result<Result<(), Conflict>> {
        let _changing = self.changing.lock().expect("volume lock");
        let parent = self.entry(&target.parent());
        if !parent.is_some_and(|p| p.is_directory) {
            return Ok(Err(Conflict::NoParent));
        }
        match self.entry(target) {
            Some(entry) if entry.is_directory => return Ok(Err(Conflict::WrongKind)),
            Some(_) if !overwrite => return Ok(Err(Conflict::Exists)),
            _ => {}
        }
        std::fs::rename(upload, self.local(target))?;
        Ok(Ok(()))
    }

    /// `mkdir -p`; fine when the directory exists, refused when a file is in the way.
    pub fn create_directories(&self, directory: &VolumePath) -> io::Result<Result<(), Conflict>> {
        let _changing = self.changing.lock().expect("volume lock");
        let mut at = VolumePath {
            rest: Vec::new(),
            ..directory.clone()
        };
        for segment in &directory.rest {
            at.rest.push(segment.clone());
            if self.entry(&at).is_some_and(|e| !e.is_directory) {
                return Ok(Err(Conflict::WrongKind));
            }
        }
        std::fs::create_dir_all(self.local(directory))?;
        Ok(Ok(()))
    }

    pub fn delete_file(&self, file: &VolumePath) -> io::Result<Result<(), Conflict>> {
        let _changing = self.changing.lock().expect("volume lock");
        match self.entry(file) {
            None => Ok(Err(Conflict::Missing)),
            Some(entry) if entry.is_directory => Ok(Err(Conflict::WrongKind)),
            Some(_) => std::fs::remove_file(self.local(file)).map(Ok),
        }
    }

    pub fn delete_directory(&self, directory: &VolumePath) -> io::Result<Result<(), Conflict>> {
        let _changing = self.changing.lock().expect("volume lock");
        match self.entry(directory) {
            None => Ok(Err(Conflict::Missing)),
            Some(entry) if !entry.is_directory => Ok(Err(Conflict::WrongKind)),
            Some(_) if std::fs::read_dir(self.local(directory))?.next().is_some() => {
                Ok(Err(Conflict::NotEmpty))
            }
            Some(_) => std::fs::remove_dir(self.local(directory)).map(Ok),
        }
    }
}

impl Drop for VolumeStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn entry(local: &Path) -> Option<Entry> {
    let metadata = std::fs::metadata(local).ok()?;
    Some(Entry {
        is_directory: metadata.is_dir(),
        size: if metadata.is_dir() { 0 } else { metadata.len() },
        modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
    })
}

fn walk(directory: &Path, prefix: &str, files: &mut Vec<String>) -> io::Result<()> {
    for child in std::fs::read_dir(directory)? {
        let child = child?;
        let name = child.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}{name}");
        if child.file_type()?.is_dir() {
            walk(&child.path(), &format!("{relative}/"), files)?;
        } else {
            files.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside_a_volume() {
        let path = VolumePath::parse("/Volumes/Main/zuora/stage/run/a.parquet").unwrap();
        assert_eq!(path.volume.key(), "main.zuora.stage");
        assert_eq!(path.rest, ["run", "a.parquet"]);
        assert_eq!(path.display(), "/Volumes/main/zuora/stage/run/a.parquet");
        assert!(
            VolumePath::parse("/Volumes/main/zuora/stage/")
                .unwrap()
                .is_root()
        );
        for bad in [
            "/Volumes/main/zuora",
            "/Volumes/main/zuora/stage/../x",
            "/Volumes/main//stage/x",
            "/dbfs/x",
            "Volumes/main/zuora/stage",
        ] {
            assert_eq!(VolumePath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn lists_and_walks_what_was_written() {
        let store = VolumeStore::new().unwrap();
        let root = VolumePath::parse("/Volumes/main/zuora/stage").unwrap();
        store.create_volume(&root.volume).unwrap();
        let dir = root.join("run/account").unwrap();
        std::fs::create_dir_all(store.local(&dir)).unwrap();
        std::fs::write(store.local(&dir.join("b.parquet").unwrap()), b"12").unwrap();
        std::fs::write(store.local(&dir.join("a.parquet").unwrap()), b"1").unwrap();

        let listed = store.list(&dir).unwrap();
        let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a.parquet", "b.parquet"]);
        assert_eq!(listed[1].entry.size, 2);
        assert_eq!(
            store.walk(&root).unwrap(),
            ["run/account/a.parquet", "run/account/b.parquet"]
        );
        assert!(
            store
                .entry(&root.join("run").unwrap())
                .unwrap()
                .is_directory
        );

        let on_disk = store.root.clone();
        drop(store);
        assert!(!on_disk.exists());
    }
}
