//! TTC (Two-Task Common), the presentation layer carried in DATA packets: encoding
//! primitives, Oracle data types, the messages of both directions, the incremental
//! request decoder (server side) and the response decoder (client side).

pub mod buf;
pub mod lob;
pub mod message;
pub mod request;
pub mod response;
pub mod types;
