//! The error responses of the OpenAPI document: one reusable component per status, each with
//! the one error body ([`ErrorBody`]), so an operation names them
//! (`(status = 404, response = NotFound)`) instead of repeating descriptions.
//!
//! Handlers list what they themselves return (their extractors included: a JSON body means
//! 400/415/422, a query or a typed path segment 400). What the layers around them return is
//! added where the layers are attached ([`add_to_every_operation`], called by
//! `crate::assemble`), so an integration's routes get it too and it cannot drift from the
//! middleware: the key check (401, 403, 429, 500), the access log's body limit (413) and the
//! request timeouts (408).

use crate::error::ErrorBody;
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa::ToResponse;

/// Declares each response component (a newtype of [`ErrorBody`]) and [`all`], which lists
/// them for `components(responses(...))`, so none is declared and left out.
macro_rules! error_responses {
    ($($(#[$meta:meta])* $name:ident;)+) => {
        $(
            #[derive(ToResponse)]
            $(#[$meta])*
            pub struct $name(pub ErrorBody);
        )+

        /// Every component of this module.
        pub(crate) fn all() -> Vec<(String, RefOr<utoipa::openapi::Response>)> {
            [$($name::response()),+]
                .into_iter()
                .map(|(name, response)| (name.to_owned(), response))
                .collect()
        }
    };
}

error_responses! {
    /// The request is malformed: JSON syntax, a query parameter or path segment of the wrong
    /// type or unknown, a header that is not visible ASCII.
    BadRequest;

    /// No API key, or one that is unknown, suspended, revoked or expired.
    #[response(headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"switchyard\"` on a refused key")))]
    Unauthorized;

    /// The key lacks the operation's scope, or (key management) the authority for the change.
    Forbidden;

    /// The resource does not exist in the caller's organization.
    NotFound;

    /// The client sent its body too slowly, or the request took longer than the server's limit.
    RequestTimeout;

    /// The resource is not in a state that allows the operation.
    Conflict;

    /// The request body is larger than the configured limit (`api.body_limit_bytes`).
    PayloadTooLarge;

    /// A request body without `Content-Type: application/json`.
    UnsupportedMediaType;

    /// Well-formed but refused: a field of the wrong type or out of range, an unknown reference
    /// (job kind, partner, scope), or a rule the schema cannot express; the message names it.
    UnprocessableEntity;

    /// The key's (or, without a key, the client address's) rate limit is spent.
    #[response(headers(("Retry-After" = u64, description = "seconds until a request is allowed again")))]
    TooManyRequests;

    /// A server-side failure (the database, most likely); the log has the cause.
    InternalError;

    /// The server cannot take the request now (not ready, or could not store it); try again.
    ServiceUnavailable;
}

/// Add `(status, component)` to every operation of `doc` that does not document that status
/// itself (a handler's own, more precise description wins).
pub(crate) fn add_to_every_operation(doc: &mut OpenApi, statuses: &[(u16, &str)]) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, name) in statuses {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
            }
        }
    }
}

/// What the key check answers on every protected route: no or a bad key, a missing scope, a
/// spent rate limit, and the database failing under it.
pub(crate) const PROTECTED: &[(u16, &str)] = &[
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (429, "TooManyRequests"),
    (500, "InternalError"),
];

/// What the access log in front of every `/api/v1` route answers: a body over the limit.
pub(crate) const V1: &[(u16, &str)] = &[(413, "PayloadTooLarge")];

/// The timeouts around every route.
pub(crate) const EVERY_ROUTE: &[(u16, &str)] = &[(408, "RequestTimeout")];
