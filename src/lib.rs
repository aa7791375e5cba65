//! zuora-sync copies a Zuora tenant into a warehouse: Object Query pages become Arrow batches,
//! are written as Parquet to staging, loaded with COPY INTO into a landing table and merged into
//! the final table, while a SQLite checkpoint log records what is durable where.

pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod databricks;
pub mod decode;
pub mod emulator;
pub mod engine;
pub mod error;
pub mod failpoint;
pub mod http;
pub mod schema;
pub mod stage;
pub mod telemetry;
pub mod warehouse;
pub mod write;
pub mod zuora;

pub use error::{Error, Result};
