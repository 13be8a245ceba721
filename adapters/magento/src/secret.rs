//! A resolved credential whose `Debug` never shows the value (the runtime's, shared by every
//! adapter).

pub use switchyard_runtime::partner_config::Secret;
