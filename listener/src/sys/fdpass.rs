//! `SCM_RIGHTS` fd passing. The code lives in [`server_proc::fdpass`] (a dispatcher inside
//! `oradb` receives hand-offs with it); the listener uses it through this name.

pub(crate) use server_proc::fdpass::*;
