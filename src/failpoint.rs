//! Named points in the sync where tests make the process die as if by `kill -9`.
//!
//! `ZUORA_SYNC_FAILPOINT=after_stage` kills the process with SIGKILL the first time the sync
//! reaches that point; `after_stage:3` on the third time. Without the variable this is a no-op.

use std::sync::atomic::{AtomicU32, Ordering};

pub const VARIABLE: &str = "ZUORA_SYNC_FAILPOINT";

static HITS: AtomicU32 = AtomicU32::new(0);

/// Kills this process with SIGKILL when `point` is the armed failpoint.
pub fn hit(point: &str) {
    let Ok(armed) = std::env::var(VARIABLE) else {
        return;
    };
    let (name, nth) = match armed.split_once(':') {
        Some((name, nth)) => (name, nth.parse().unwrap_or(1)),
        None => (armed.as_str(), 1),
    };
    if name != point {
        return;
    }
    if HITS.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        tracing::warn!(point, "failpoint reached; killing the process with SIGKILL");
        // SAFETY: getpid and kill have no preconditions; SIGKILL cannot be caught.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
