//! Integration tests: they drive the real `zuora-sync` binary against the emulators that ship
//! with it, in temporary folders, and check the warehouse cell by cell. One test binary keeps
//! link time down.

mod bad_input;
mod corpus;
mod crash;
mod cron;
mod databricks;
mod drift;
mod faults;
mod incremental;
mod randomized;
mod s3;
mod support;
mod sync_exact;
