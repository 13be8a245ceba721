//! The catalog's pure rules: units of measure and their conversions ([`uom`]) and the price a
//! customer sees ([`pricing`]). No I/O: the store loads the inputs, the API asks the question.

pub mod pricing;
pub mod uom;

pub use pricing::{resolve, PriceBreakdown, PriceQuery, PriceSource, PricingError, PricingInputs};
pub use uom::{alt_uoms, Conversion, Converter, Uom, UomError};
