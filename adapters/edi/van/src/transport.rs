//! Where a VAN mailbox's files live: a local directory or an SFTP server. The mailbox poll
//! and `edi.send` run one pipeline over this trait, so both transports get the same
//! guarantees (claim by rename, complete files only under their final name, move to
//! `archive/` / `error/`, resume from `processing/`).
//!
//! Every operation names a [`Folder`] and a plain file name; the transport maps them to
//! `ROOT/FOLDER/NAME` on its side.

use async_trait::async_trait;
use std::io::Read;
use std::path::PathBuf;
use switchyard_core::error::AdapterError;
use uuid::Uuid;

/// The mailbox's folders; `Processing` is ours, the others are shared with the partner's VAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Inbound,
    Outbound,
    Archive,
    Error,
    Processing,
}

impl Folder {
    pub const ALL: [Folder; 5] = [
        Folder::Inbound,
        Folder::Outbound,
        Folder::Archive,
        Folder::Error,
        Folder::Processing,
    ];

    pub fn dir_name(self) -> &'static str {
        match self {
            Folder::Inbound => "inbound",
            Folder::Outbound => "outbound",
            Folder::Archive => "archive",
            Folder::Error => "error",
            Folder::Processing => "processing",
        }
    }
}

/// What the mailbox pipeline needs from a place that holds files.
#[async_trait]
pub trait MailboxTransport: Send + Sync {
    /// `ROOT/FOLDER/NAME` as the transport sees it (reports and logs).
    fn path(&self, folder: Folder, name: &str) -> PathBuf;

    /// The key of the advisory lock that keeps two pollers off one mailbox.
    async fn lock_key(&self) -> String;

    /// Create the missing folders.
    async fn ensure_dirs(&self) -> Result<(), AdapterError>;

    /// Regular files in `folder`, sorted by name; dot files and `.tmp` / `.part` names
    /// (uploads still being written) are left out.
    async fn list(&self, folder: Folder) -> Result<Vec<String>, AdapterError>;

    /// Rename `from/from_name` to `to/to_name`, never replacing an existing file. `Ok(false)`
    /// when the source is gone (the partner's client took it back between list and claim).
    async fn rename(
        &self,
        from: Folder,
        from_name: &str,
        to: Folder,
        to_name: &str,
    ) -> Result<bool, AdapterError>;

    async fn exists(&self, folder: Folder, name: &str) -> Result<bool, AdapterError>;

    /// A blocking reader over the file, for the parser's thread.
    async fn open(&self, folder: Folder, name: &str) -> Result<Box<dyn Read + Send>, AdapterError>;

    /// Write under a temporary dot name, flush it to disk, then rename it to `name`: the
    /// partner never sees a half-written document under its final name. If `name` already
    /// exists it holds this same document (names carry control numbers) and is left as it is.
    async fn write_atomic(
        &self,
        folder: Folder,
        name: &str,
        body: &[u8],
    ) -> Result<(), AdapterError>;
}

/// `name` when free in `folder`, else `name.PICKUP` (a second file of the same name).
pub async fn free_name(
    t: &dyn MailboxTransport,
    folder: Folder,
    name: &str,
    pickup: Uuid,
) -> Result<String, AdapterError> {
    if t.exists(folder, name).await? {
        Ok(format!("{name}.{}", pickup.simple()))
    } else {
        Ok(name.to_owned())
    }
}

/// Whether a listed name is a finished file of the partner's (not a dot file or an upload
/// still in progress).
pub fn is_candidate(name: &str) -> bool {
    !(name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part"))
}

/// The temporary name a document is written under before its rename.
pub fn temp_name(name: &str) -> String {
    format!(".{name}.{}.tmp", Uuid::new_v4().simple())
}
