//! Harness for the end-to-end tests: [`TestDaemon`] (a fresh database per test, the config
//! written per test, fake partners, the daemon in-process or the real `switchyard` binary as
//! child processes, so SIGKILL is a real kill), the SFTP server the mailbox tests talk to, the
//! test integration that proves the seam, and small readers for what tests check.

pub mod child;
pub mod daemon;
pub mod db;
pub mod edi;
pub mod jobs;
pub mod probe;
pub mod proxy;
pub mod sshd;
pub mod wait;

pub use child::{switchyard_bin, Daemon};
pub use daemon::{repo, Prepared, TestDaemon, TestDaemonBuilder};
pub use db::TestDb;
pub use proxy::TcpProxy;
pub use wait::{count, eventually};
