//! API keys (owned by the API work; filled in there).
