//! TTC (Two-Task Common), the presentation layer carried in DATA packets: encoding
//! primitives, Oracle data types, the messages of both directions and the incremental
//! request decoder.

pub mod buf;
pub mod message;
pub mod request;
pub mod types;
