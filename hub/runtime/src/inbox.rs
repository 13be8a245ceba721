//! Files a job reads from the daemon's own disk, confined to a directory the configuration
//! declares (`[paths] inbox`). A job payload names a file *relative* to that directory; the
//! caller of the API is not trusted with the server's file system, the operator who wrote the
//! configuration is.
//!
//! Opening goes through [`open_beneath`]: the path must be relative without `..`, it is
//! resolved by cap-std beneath the directory (a symlink leading out is refused by the kernel's
//! `openat2(RESOLVE_BENEATH)` or cap-std's checked walk, never by comparing strings that can
//! change under us), it is opened non-blocking (a FIFO would otherwise block the open until a
//! writer came, and with it the worker and SIGTERM), and the *opened handle* must be a regular
//! file (fstat, not a racy stat of the path). Reads are capped in size and in time.

use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// Why a file named by a job was not read. Every message names the directory files must be in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("no file named; name a file inside {}", .dir.display())]
    Empty { dir: PathBuf },
    #[error("`{name}` is an absolute path; name a file relative to {}", .dir.display())]
    Absolute { name: String, dir: PathBuf },
    #[error("`{name}` contains `..`; name a file inside {}", .dir.display())]
    ParentDir { name: String, dir: PathBuf },
    #[error("the directory {} cannot be opened: {error}", .dir.display())]
    NoDirectory { dir: PathBuf, error: String },
    #[error("no file `{name}` in {}", .dir.display())]
    NotFound { name: String, dir: PathBuf },
    #[error("`{name}` leads outside {} (through a symlink)", .dir.display())]
    Outside { name: String, dir: PathBuf },
    #[error("`{name}` in {} is a {file_type}, not a regular file", .dir.display())]
    NotRegular {
        name: String,
        dir: PathBuf,
        file_type: &'static str,
    },
    #[error("`{name}` in {} is larger than the limit of {max} bytes", .dir.display())]
    TooLarge {
        name: String,
        dir: PathBuf,
        max: u64,
    },
    #[error("reading `{name}` in {} took longer than {} s", .dir.display(), .limit.as_secs())]
    TimedOut {
        name: String,
        dir: PathBuf,
        limit: Duration,
    },
    #[error("cannot read `{name}` in {}: {error}", .dir.display())]
    Io {
        name: String,
        dir: PathBuf,
        error: String,
    },
}

impl FileRefusal {
    /// A short machine-readable reason (the API's 422 carries it in `details.reason`).
    pub fn reason(&self) -> &'static str {
        match self {
            FileRefusal::Empty { .. } => "empty",
            FileRefusal::Absolute { .. } => "absolute_path",
            FileRefusal::ParentDir { .. } => "parent_dir",
            FileRefusal::NoDirectory { .. } => "no_directory",
            FileRefusal::NotFound { .. } => "not_found",
            FileRefusal::Outside { .. } => "outside",
            FileRefusal::NotRegular { .. } => "not_a_regular_file",
            FileRefusal::TooLarge { .. } => "too_large",
            FileRefusal::TimedOut { .. } => "timed_out",
            FileRefusal::Io { .. } => "io",
        }
    }

    /// The directory the file had to be in.
    pub fn dir(&self) -> &Path {
        match self {
            FileRefusal::Empty { dir }
            | FileRefusal::Absolute { dir, .. }
            | FileRefusal::ParentDir { dir, .. }
            | FileRefusal::NoDirectory { dir, .. }
            | FileRefusal::NotFound { dir, .. }
            | FileRefusal::Outside { dir, .. }
            | FileRefusal::NotRegular { dir, .. }
            | FileRefusal::TooLarge { dir, .. }
            | FileRefusal::TimedOut { dir, .. }
            | FileRefusal::Io { dir, .. } => dir,
        }
    }

    /// Worth retrying: the environment may recover (a slow or failing disk); everything else
    /// is about what the payload names and fails the same way every time.
    pub fn is_transient(&self) -> bool {
        matches!(self, FileRefusal::TimedOut { .. } | FileRefusal::Io { .. })
    }
}

/// `name` as a path relative to the directory: not empty, not absolute, no `..` (refused
/// outright rather than resolved, so a payload cannot even probe what lies above).
pub fn relative_name<'a>(name: &'a str, dir: &Path) -> Result<&'a Path, FileRefusal> {
    let path = Path::new(name);
    if name.trim().is_empty() {
        return Err(FileRefusal::Empty { dir: dir.into() });
    }
    if path.has_root() || matches!(path.components().next(), Some(Component::Prefix(_))) {
        return Err(FileRefusal::Absolute {
            name: name.into(),
            dir: dir.into(),
        });
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(FileRefusal::ParentDir {
            name: name.into(),
            dir: dir.into(),
        });
    }
    Ok(path)
}

fn file_type_name(t: &cap_std::fs::FileType) -> &'static str {
    use cap_std::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "named pipe (FIFO)"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// Open `name` beneath `dir` for reading, refusing anything that is not a regular file inside
/// it; returns the open file and its size. Never blocks on a FIFO or device (O_NONBLOCK; the
/// handle is checked before anything is read). `dir` itself is the operator's (it may be a
/// symlink); only what lies beneath it is confined.
pub fn open_beneath(dir: &Path, name: &str) -> Result<(std::fs::File, u64), FileRefusal> {
    let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let rel = relative_name(name, &shown)?;
    let root = Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(|e| {
        FileRefusal::NoDirectory {
            dir: shown.clone(),
            error: e.to_string(),
        }
    })?;
    let mut options = OpenOptions::new();
    options
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    let file = root.open_with(rel, &options).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileRefusal::NotFound {
            name: name.into(),
            dir: shown.clone(),
        },
        // cap-std's answer to a path that resolved outside the directory (EXDEV from openat2,
        // or its own walk): "a path led outside of the filesystem".
        std::io::ErrorKind::PermissionDenied if e.to_string().contains("outside") => {
            FileRefusal::Outside {
                name: name.into(),
                dir: shown.clone(),
            }
        }
        _ => FileRefusal::Io {
            name: name.into(),
            dir: shown.clone(),
            error: e.to_string(),
        },
    })?;
    let meta = file.metadata().map_err(|e| FileRefusal::Io {
        name: name.into(),
        dir: shown.clone(),
        error: e.to_string(),
    })?;
    if !meta.is_file() {
        return Err(FileRefusal::NotRegular {
            name: name.into(),
            dir: shown,
            file_type: file_type_name(&meta.file_type()),
        });
    }
    Ok((file.into_std(), meta.len()))
}

/// The directory job payloads name their input files in, with the limits of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    dir: PathBuf,
    max_bytes: u64,
    read_timeout: Duration,
}

impl Inbox {
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64, read_timeout: Duration) -> Self {
        Self {
            dir: dir.into(),
            max_bytes,
            read_timeout,
        }
    }

    /// The directory as configured.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What admission checks: `name` opens beneath the inbox as a regular file within the size
    /// limit. Nothing is read.
    pub fn check(&self, name: &str) -> Result<(), FileRefusal> {
        let (_, size) = open_beneath(&self.dir, name)?;
        self.within_limit(name, size)
    }

    fn within_limit(&self, name: &str, size: u64) -> Result<(), FileRefusal> {
        if size > self.max_bytes {
            return Err(FileRefusal::TooLarge {
                name: name.into(),
                dir: std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone()),
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    /// The whole file, opened as [`open_beneath`] does, at most `max_bytes` (a file that grew
    /// past the limit since it was checked is refused, not truncated) and within the time
    /// limit. The read runs on the blocking pool; past the limit the job stops waiting for it.
    pub async fn read(&self, name: &str) -> Result<Vec<u8>, FileRefusal> {
        let this = self.clone();
        let owned = name.to_owned();
        let read = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, FileRefusal> {
            let (file, size) = open_beneath(&this.dir, &owned)?;
            this.within_limit(&owned, size)?;
            let mut bytes = Vec::with_capacity(size as usize);
            file.take(this.max_bytes + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| FileRefusal::Io {
                    name: owned.clone(),
                    dir: this.shown(),
                    error: e.to_string(),
                })?;
            this.within_limit(&owned, bytes.len() as u64)?;
            Ok(bytes)
        });
        match tokio::time::timeout(self.read_timeout, read).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(FileRefusal::Io {
                name: name.into(),
                dir: self.shown(),
                error: format!("reader thread: {join}"),
            }),
            Err(_) => Err(FileRefusal::TimedOut {
                name: name.into(),
                dir: self.shown(),
                limit: self.read_timeout,
            }),
        }
    }

    fn shown(&self) -> PathBuf {
        std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fs::mkfifo;

    fn inbox(dir: &Path) -> Inbox {
        Inbox::new(dir, 1024, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_regular_file_inside_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.csv"), "sku\n1\n").unwrap();
        // A symlink that stays inside the directory is fine.
        std::os::unix::fs::symlink("sub/a.csv", dir.path().join("link.csv")).unwrap();
        let inbox = inbox(dir.path());
        assert_eq!(inbox.read("sub/a.csv").await.unwrap(), b"sku\n1\n");
        assert_eq!(inbox.read("./link.csv").await.unwrap(), b"sku\n1\n");
        inbox.check("sub/a.csv").unwrap();
    }

    #[tokio::test]
    async fn every_way_out_is_refused_naming_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "key").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("abs-link"))
            .unwrap();
        std::os::unix::fs::symlink("../../../../../../../etc/passwd", dir.path().join("up"))
            .unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        mkfifo(&dir.path().join("pipe"));
        std::fs::write(dir.path().join("big"), vec![b'x'; 2048]).unwrap();
        let inbox = inbox(dir.path());
        let shown = std::path::absolute(dir.path()).unwrap();
        let cases: [(&str, &str); 11] = [
            ("", "empty"),
            ("/etc/passwd", "absolute_path"),
            ("/dev/zero", "absolute_path"),
            ("../secret", "parent_dir"),
            ("folder/../../secret", "parent_dir"),
            ("abs-link", "outside"),
            ("up", "outside"),
            ("zero", "outside"),
            ("folder", "not_a_regular_file"),
            ("pipe", "not_a_regular_file"),
            ("big", "too_large"),
        ];
        for (name, reason) in cases {
            for refusal in [
                inbox.check(name).unwrap_err(),
                inbox.read(name).await.unwrap_err(),
            ] {
                assert_eq!(refusal.reason(), reason, "{name}: {refusal}");
                assert_eq!(refusal.dir(), shown, "{name}");
                assert!(
                    refusal.to_string().contains(&shown.display().to_string()),
                    "the message names the directory: {refusal}"
                );
                assert!(!refusal.is_transient(), "{name}: {refusal}");
            }
        }
        let missing = inbox.check("nope.csv").unwrap_err();
        assert_eq!(missing.reason(), "not_found", "{missing}");
        let no_dir = Inbox::new(dir.path().join("absent"), 10, Duration::from_secs(1));
        assert_eq!(no_dir.check("a").unwrap_err().reason(), "no_directory");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking_the_open() {
        // Without O_NONBLOCK the open waits for a writer forever: run it on a thread and give
        // it a deadline, so that failure shows as a failed test rather than a hung one.
        let dir = tempfile::tempdir().unwrap();
        mkfifo(&dir.path().join("pipe"));
        let (tx, rx) = std::sync::mpsc::channel();
        let root = dir.path().to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(open_beneath(&root, "pipe").map(|_| ()));
        });
        let refusal = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("opening a FIFO must not block")
            .unwrap_err();
        assert!(
            matches!(
                refusal,
                FileRefusal::NotRegular {
                    file_type: "named pipe (FIFO)",
                    ..
                }
            ),
            "{refusal}"
        );
    }
}
