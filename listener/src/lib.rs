//! `tnslsnr`: the listener daemon. Accepts connections, reads the CONNECT packet, routes it to
//! a service handler or refuses it with Oracle's code, and hands accepted sockets to the
//! spawner zygote over `SCM_RIGHTS`. Also the admin protocol spoken by `lsnrctl`.

pub mod admin;
pub mod control;
pub mod handoff;
pub mod home;
pub mod listener_log;
pub mod net_trace;
pub mod oratime;
pub mod report;
pub mod services;
pub mod settings;
pub mod spawner;
pub mod sys;
pub mod tnserr;
pub mod validnode;

mod dedicated;
pub mod descriptor;
pub mod registration;
pub mod server;
