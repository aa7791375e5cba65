//! The Databricks REST client: authentication (OAuth machine-to-machine for a service principal,
//! or a personal access token), the SQL Statement Execution API with its states and polling,
//! the Warehouses API, and the Files API for Unity Catalog volumes. Failures are mapped from
//! Databricks' error classes to errors that say what to do, down to the GRANT that fixes a
//! missing privilege.

mod api;
pub mod check;
mod errors;
mod files;
mod statements;

pub use api::Api;
pub use errors::{Privilege, grant_statement, parse_missing_privilege};
pub use statements::StatementResult;
