//! The SQL warehouse: its state machine (STOPPED → STARTING for `cold_start` → RUNNING, and
//! back to STOPPED on stop), the principals that may use it (CAN_USE), and its description
//! as `GET /api/2.0/sql/warehouses/{id}` returns it. A statement sent to a stopped warehouse
//! starts it and waits, PENDING, until it runs.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Starting,
    Running,
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Starting => "STARTING",
            State::Running => "RUNNING",
            State::Stopped => "STOPPED",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Warehouse {
    pub id: String,
    cold_start: Duration,
    state: watch::Sender<State>,
    /// Bumped by every stop, so a start timer from before it does nothing.
    epoch: AtomicU64,
    /// Principals with CAN_USE.
    users: Mutex<BTreeSet<String>>,
}

impl Warehouse {
    pub fn new(id: String, cold_start: Duration, stopped: bool) -> Warehouse {
        let initial = if stopped {
            State::Stopped
        } else {
            State::Running
        };
        Warehouse {
            id,
            cold_start,
            state: watch::Sender::new(initial),
            epoch: AtomicU64::new(0),
            users: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn state(&self) -> State {
        *self.state.borrow()
    }

    pub fn can_use(&self, principal: &str) -> bool {
        self.users.lock().expect("users lock").contains(principal)
    }

    pub fn set_can_use(&self, principal: &str, allowed: bool) {
        let mut users = self.users.lock().expect("users lock");
        if allowed {
            users.insert(principal.to_string());
        } else {
            users.remove(principal);
        }
    }

    /// STOPPED → STARTING, and RUNNING after `cold_start`. Must run inside a tokio runtime.
    pub fn start(self: &std::sync::Arc<Self>) {
        let starting = self.state.send_if_modified(|state| {
            let stopped = *state == State::Stopped;
            if stopped {
                *state = State::Starting;
            }
            stopped
        });
        if !starting {
            return;
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let warehouse = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(warehouse.cold_start).await;
            warehouse.state.send_if_modified(|state| {
                let current = warehouse.epoch.load(Ordering::SeqCst) == epoch;
                let running = current && *state == State::Starting;
                if running {
                    *state = State::Running;
                }
                running
            });
        });
    }

    pub fn stop(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.state.send_replace(State::Stopped);
    }

    /// Starts the warehouse if needed and waits until it runs, restarting it if it is
    /// stopped meanwhile.
    pub async fn running(self: &std::sync::Arc<Self>) {
        let mut changes = self.state.subscribe();
        loop {
            let state = *changes.borrow_and_update();
            match state {
                State::Running => return,
                State::Stopped => self.start(),
                State::Starting => {}
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// The fields of `GET /api/2.0/sql/warehouses/{id}`.
    pub fn describe(&self, hostname: &str, port: u16) -> Value {
        let state = self.state();
        let path = format!("/sql/1.0/warehouses/{}", self.id);
        json!({
            "id": self.id,
            "name": "zuora-sync emulator",
            "state": state.as_str(),
            "health": { "status": "HEALTHY" },
            "cluster_size": "2X-Small",
            "min_num_clusters": 1,
            "max_num_clusters": 1,
            "num_clusters": if state == State::Running { 1 } else { 0 },
            "num_active_sessions": 0,
            "auto_stop_mins": 10,
            "creator_name": "admin@example.com",
            "enable_photon": true,
            "enable_serverless_compute": true,
            "warehouse_type": "PRO",
            "spot_instance_policy": "COST_OPTIMIZED",
            "channel": { "name": "CHANNEL_NAME_CURRENT" },
            "tags": {},
            "odbc_params": {
                "hostname": hostname,
                "path": path,
                "port": port,
                "protocol": "http",
            },
            "jdbc_url": format!(
                "jdbc:databricks://{hostname}:{port}/default;transportMode=http;ssl=0;\
                 AuthMech=3;httpPath={path};"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_stopped_warehouse_starts_through_starting() {
        let warehouse = Arc::new(Warehouse::new("w".into(), Duration::from_millis(50), true));
        assert_eq!(warehouse.state(), State::Stopped);
        let mut changes = warehouse.state.subscribe();
        warehouse.start();
        assert_eq!(warehouse.state(), State::Starting);
        changes
            .wait_for(|s| *s == State::Running)
            .await
            .expect("the warehouse starts");

        warehouse.stop();
        assert_eq!(warehouse.state(), State::Stopped);
        warehouse.running().await;
        assert_eq!(warehouse.state(), State::Running);
    }

    #[test]
    fn describes_itself_with_its_http_path() {
        let warehouse = Warehouse::new("abc".into(), Duration::ZERO, false);
        let described = warehouse.describe("127.0.0.1", 8080);
        assert_eq!(described["state"], "RUNNING");
        assert_eq!(described["odbc_params"]["path"], "/sql/1.0/warehouses/abc");
    }
}
