//! `tnslsnr`: the listener daemon. Accepts connections, reads the CONNECT packet, routes it to
//! a service handler or refuses it with Oracle's code, and hands accepted sockets to the
//! spawner zygote over `SCM_RIGHTS`. Also the admin protocol spoken by `lsnrctl`.
pub mod registration;
