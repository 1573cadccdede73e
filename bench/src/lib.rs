//! `tnsbench` (to come): connect storms, round trips and memory per session.
