//! Faithful stand-ins for the services zuora-sync talks to, served on loopback so tests,
//! benchmarks and the `demo` and `emulate` commands run with no Zuora tenant or Databricks
//! workspace. Each follows the published API shapes and refuses loudly what it does not emulate.

#[cfg(feature = "duckdb")]
pub mod databricks;
pub mod zuora;
