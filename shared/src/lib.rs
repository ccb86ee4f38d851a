//! iamwatch: the engine behind the iamwatch handlers and CLI.
//!
//! Cloud audit events in, alerts out. This crate holds all of the logic; the Lambda and Code
//! Engine handlers and the `iamwatch` command are thin shells around it.

pub mod event;
pub mod ingest;
pub mod net;
pub mod pattern;
pub mod time;
