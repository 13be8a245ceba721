//! A VAN mailbox on the daemon's own file system.

use crate::transport::{is_candidate, temp_name, Folder, MailboxTransport};
use async_trait::async_trait;
use std::io::Read;
use std::path::{Path, PathBuf};
use switchyard_core::error::AdapterError;
use tracing::warn;

fn io_err(what: String) -> impl FnOnce(std::io::Error) -> AdapterError {
    // A mailbox directory that cannot be read or written is an environment problem worth
    // retrying (a remounted share, a full disk), not a reason to drop the job.
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

/// A mailbox on the daemon's own file system.
#[derive(Debug, Clone)]
pub struct LocalDir {
    pub root: PathBuf,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn dir(&self, folder: Folder) -> PathBuf {
        self.root.join(folder.dir_name())
    }
}

#[async_trait]
impl MailboxTransport for LocalDir {
    fn path(&self, folder: Folder, name: &str) -> PathBuf {
        self.dir(folder).join(name)
    }

    async fn lock_key(&self) -> String {
        let root = tokio::fs::canonicalize(&self.root)
            .await
            .unwrap_or_else(|_| self.root.clone());
        format!("switchyard.edi.mailbox:{}", root.display())
    }

    async fn ensure_dirs(&self) -> Result<(), AdapterError> {
        for f in Folder::ALL {
            tokio::fs::create_dir_all(self.dir(f))
                .await
                .map_err(io_err(format!(
                    "creating the mailbox directories under {}",
                    self.root.display()
                )))?;
        }
        Ok(())
    }

    async fn list(&self, folder: Folder) -> Result<Vec<String>, AdapterError> {
        let dir = self.dir(folder);
        let mut names = Vec::new();
        let mut rd = tokio::fs::read_dir(&dir)
            .await
            .map_err(io_err(format!("listing {}", dir.display())))?;
        while let Some(e) = rd
            .next_entry()
            .await
            .map_err(io_err(format!("listing {}", dir.display())))?
        {
            let Ok(name) = e.file_name().into_string() else {
                warn!(dir = %dir.display(), "skipping a file whose name is not UTF-8");
                continue;
            };
            let is_file = e.file_type().await.map(|t| t.is_file()).unwrap_or(false);
            if is_file && is_candidate(&name) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    async fn rename(
        &self,
        from: Folder,
        from_name: &str,
        to: Folder,
        to_name: &str,
    ) -> Result<bool, AdapterError> {
        let (src, dst) = (self.path(from, from_name), self.path(to, to_name));
        // rename(2) replaces silently; callers pick free names, this keeps the promise.
        if tokio::fs::try_exists(&dst).await.unwrap_or(false) {
            return Err(AdapterError::transient(format!(
                "moving {} to {}: the target exists",
                src.display(),
                dst.display()
            )));
        }
        match tokio::fs::rename(&src, &dst).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(format!(
                "moving {} to {}",
                src.display(),
                dst.display()
            ))(e)),
        }
    }

    async fn exists(&self, folder: Folder, name: &str) -> Result<bool, AdapterError> {
        let p = self.path(folder, name);
        tokio::fs::try_exists(&p)
            .await
            .map_err(io_err(format!("looking for {}", p.display())))
    }

    async fn open(&self, folder: Folder, name: &str) -> Result<Box<dyn Read + Send>, AdapterError> {
        let p = self.path(folder, name);
        open_regular_file(&p)
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
            .map_err(io_err(format!("opening {}", p.display())))
    }

    async fn write_atomic(
        &self,
        folder: Folder,
        name: &str,
        body: &[u8],
    ) -> Result<(), AdapterError> {
        write_file_atomic(&self.path(folder, name), body).await
    }
}

/// Open `path` only if it is a regular file in its own right. `list` offers only regular
/// files, but a name can be swapped between listing and opening: a symlink planted in the
/// mailbox must not make the daemon read a file elsewhere on the server (`O_NOFOLLOW`), and a
/// FIFO must not block the job forever (`O_NONBLOCK`, which does nothing to a regular file).
fn open_regular_file(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
        .open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    }
}

/// tmp file (a dot name the VAN's pickup ignores) + fsync + rename + directory fsync: the
/// target name only ever holds a complete document, and survives a power cut once renamed.
pub async fn write_file_atomic(target: &Path, body: &[u8]) -> Result<(), AdapterError> {
    let dir = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(temp_name(&file_name));
    let body = body.to_vec();
    let target = target.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)?;
        std::fs::File::open(&dir)?.sync_all()
    })
    .await
    .map_err(|e| AdapterError::transient(format!("writer thread: {e}")))?
    .map_err(|e| AdapterError::transient(format!("writing {name}: {e}", name = file_name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn only_regular_files_open_never_through_a_symlink_or_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let regular = dir.path().join("850.edi");
        std::fs::write(&regular, b"ISA*").unwrap();
        let mut text = String::new();
        open_regular_file(&regular)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "ISA*");

        let secret = dir.path().join("elsewhere");
        std::fs::write(&secret, b"root:x:0:0").unwrap();
        let link = dir.path().join("planted.edi");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert!(open_regular_file(&link).is_err(), "a symlink is refused");

        let fifo = dir.path().join("pipe.edi");
        switchyard_runtime::testkit::fs::mkfifo(&fifo);
        // Without O_NONBLOCK this open would wait for a writer forever.
        let err = open_regular_file(&fifo).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
