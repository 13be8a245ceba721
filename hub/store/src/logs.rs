//! Integration logs (owned by the API work; filled in there).
