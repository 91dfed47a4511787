//! template.yaml's DynamoDB tables, made on a local cloud for one test: what a store's contract
//! cases run against. Each call makes new, empty tables (by `localstack/tables.py`, through
//! CloudFormation, as the stack itself makes them), so cases never see each other's items.

use crate::{CloudEndpoint, sdk_config, workspace_root};
use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// New tables of the template, by logical id, on this test binary's local cloud.
pub struct Tables {
    endpoint: String,
    names: HashMap<String, String>,
}

impl Tables {
    /// Makes the template's tables `logical_ids` (e.g. `InventoryTable`), empty, on the cloud
    /// this test binary starts on first use (or the one at `CAFE_ENDPOINT`).
    pub fn new(logical_ids: &[&str]) -> Tables {
        static CLOUD: OnceLock<CloudEndpoint> = OnceLock::new();
        static STACKS: AtomicU32 = AtomicU32::new(0);
        let cloud = CLOUD.get_or_init(CloudEndpoint::start);
        let stack = format!(
            "{}-tables-{}-{}",
            cloud.name,
            std::process::id(),
            STACKS.fetch_add(1, Ordering::SeqCst)
        );
        let root = workspace_root();
        let out = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("localstack/tables.py"))
            .args(["--endpoint", &cloud.url, "--stack-name", &stack])
            .args(logical_ids)
            .output()
            .expect("python in .venv runs localstack/tables.py (localstack/test.sh installs it)");
        assert!(
            out.status.success(),
            "making the tables {logical_ids:?} failed: {}\nsee {}",
            String::from_utf8_lossy(&out.stderr),
            cloud.log_hint()
        );
        Tables {
            endpoint: cloud.url.clone(),
            names: serde_json::from_slice(&out.stdout).expect("tables.py prints the tables' names"),
        }
    }

    /// The table's name on the cloud.
    pub fn name(&self, logical_id: &str) -> String {
        (self.names.get(logical_id).cloned()).unwrap_or_else(|| panic!("{logical_id} was not made"))
    }

    /// An SDK configuration pointed at the cloud the tables are on.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        sdk_config(&self.endpoint).await
    }
}
