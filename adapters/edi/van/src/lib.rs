//! EDI trading partners over VAN mailboxes: the integration around the pure EDI library
//! (`switchyard-edi`, one directory up).
//!
//! Module map:
//! * [`integration`] — [`EdiIntegration`]: what the daemon lists, one line.
//! * [`partners`] — `[partners.NAME]` with `kind = "edi"`: the profile and the mailbox, parsed
//!   strictly with every problem located.
//! * [`jobs`] — the payloads of the five job kinds; [`mailbox`] (`edi.mailbox.poll`),
//!   [`send`] (`edi.send`) with [`outbound`], [`acks`] (inbound acks matched, `edi.ack.overdue`),
//!   [`orders`] (`edi.order.import`, `edi.order.reprocess`).
//! * [`transport`] — the mailbox trait, with [`local_dir`] and [`sftp`]; [`connect`] picks one.
//! * [`messages`] — the EDI tables' SQL (messages, control numbers); [`envelope`]: how an
//!   interchange is stored.
//! * [`adapter`] — each partner's adapter (health, the `mailbox` capability jobs are gated on).
//! * [`routes`] and [`scopes`] — `/api/v1/edi/...` and `POST /orders/{id}/reprocess`.

pub mod acks;
pub mod adapter;
pub mod connect;
pub mod envelope;
pub mod integration;
pub mod jobs;
pub mod local_dir;
pub mod mailbox;
pub mod messages;
pub mod orders;
pub mod outbound;
pub mod partners;
pub mod routes;
pub mod scopes;
pub mod send;
pub mod sftp;
pub mod transport;

pub use integration::EdiIntegration;
