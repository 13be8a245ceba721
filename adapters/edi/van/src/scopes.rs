//! The scopes of the EDI routes.

use switchyard_api::ScopeSpec;

pub const SCOPES: &[ScopeSpec] = &[
    ScopeSpec {
        name: "read:edi",
        about: "the EDI inbox and outbox, parsed trees and validation reports",
    },
    ScopeSpec {
        name: "write:edi",
        about: "reprocess inbound EDI messages and send EDI documents",
    },
];

switchyard_api::scope_marker!(ReadEdi => "read:edi", WriteEdi => "write:edi");
