//! Faithful stand-ins for the services zuora-sync talks to, served on loopback so tests,
//! benchmarks and the `demo` and `emulate` commands run with no Zuora tenant or Databricks
//! workspace. Each follows the published API shapes and refuses loudly what it does not emulate.

#[cfg(feature = "duckdb")]
pub mod databricks;
pub mod zuora;

use rand::RngExt;

/// `bits` as a lowercase UUID (8-4-4-4-12), the form both services use for ids and clients.
pub(crate) fn uuid(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    let (a, rest) = hex.split_at(8);
    let (b, rest) = rest.split_at(4);
    let (c, rest) = rest.split_at(4);
    let (d, e) = rest.split_at(4);
    format!("{a}-{b}-{c}-{d}-{e}")
}

/// One of `choices`, drawn with the given integer weights.
pub(crate) fn pick_weighted<T: Copy>(rng: &mut impl RngExt, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|&(_, w)| w).sum();
    let mut ticket = rng.random_range(0..total);
    for &(choice, weight) in choices {
        if ticket < weight {
            return choice;
        }
        ticket -= weight;
    }
    unreachable!("the ticket is below the total weight")
}
