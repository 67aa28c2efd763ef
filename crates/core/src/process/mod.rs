//! Child processes, knowing nothing about sessions or protocols: `spawn` (start a CLI in its
//! own process group, signal the group), `lines` (read its output as bounded lines, keep a
//! stderr tail), `platform` (what /proc says: start times, memory; the parent-death signal),
//! `binaries` (find the CLIs).

pub(crate) mod binaries;
mod lines;
pub(crate) mod platform;
mod spawn;

pub(crate) use lines::{truncate, Line, LineReader, Tail};
pub(crate) use platform::{group_rss, start_time};
pub(crate) use spawn::{resolve_program, signal_group, spawn, CommandSpec};
