//! Opening a partner's mailbox over the transport its profile names.

use crate::local_dir::LocalDir;
use crate::partners::MailboxSpec;
use crate::sftp::SftpMailbox;
use crate::transport::MailboxTransport;
use switchyard_core::error::AdapterError;

/// Open the partner's mailbox (an SFTP mailbox connects, authenticates and checks the
/// server's host key here).
pub async fn connect(spec: &MailboxSpec) -> Result<Box<dyn MailboxTransport>, AdapterError> {
    match spec {
        MailboxSpec::Local(root) => Ok(Box::new(LocalDir::new(root.clone()))),
        MailboxSpec::Sftp(s) => Ok(Box::new(SftpMailbox::connect(s).await?)),
    }
}
