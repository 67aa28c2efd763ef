//! The data every layer shares: errors and their codes, events and statuses, options, the
//! session snapshot (`SessionInfo`), notifications and counters. Depends on nothing else in
//! the crate.

pub mod counters;
pub mod error;
pub mod event;
pub mod info;
pub mod metadata;
pub mod notification;
pub mod options;
pub mod pricing;
pub mod status;
pub mod turn;
