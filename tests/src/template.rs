//! template.yaml as CloudFormation receives it on AWS: the SAM transform applied (as
//! `localstack/sam_transform.py` applies it) with the parameters of samconfig.toml's AWS profile,
//! and the e-mail address `sam deploy --guided` asks for.

use crate::workspace_root;
use serde_json::Value;
use std::collections::BTreeMap;

/// What an operator answers for `AlarmEmail`, which no profile can hold for them.
pub const ALARM_EMAIL: &str = "operator@cafe.example";

/// A samconfig.toml profile's deploy parameter overrides (`default` is AWS's, `local` the local
/// cloud's), as `KEY=VALUE` pairs.
pub fn profile_parameters(profile: &str) -> BTreeMap<String, String> {
    let samconfig = std::fs::read_to_string(workspace_root().join("samconfig.toml")).unwrap();
    let section = samconfig
        .split(&format!("[{profile}.deploy.parameters]"))
        .nth(1)
        .unwrap_or_else(|| panic!("samconfig.toml has a {profile} deploy profile"));
    let section = section.split("\n[").next().unwrap();
    let overrides = (section.lines())
        .find_map(|line| line.trim().strip_prefix("parameter_overrides = "))
        .unwrap_or_else(|| panic!("the {profile} profile sets parameter_overrides"));
    (overrides.trim_matches('"').split_whitespace())
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("KEY=VALUE");
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// The AWS profile's parameter overrides, and `AlarmEmail`.
pub fn aws_parameters() -> BTreeMap<String, String> {
    let mut parameters = profile_parameters("default");
    parameters.insert("AlarmEmail".into(), ALARM_EMAIL.into());
    parameters
}

/// The transformed template with the AWS profile's parameters.
pub fn aws_template() -> Value {
    let root = workspace_root();
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("localstack/sam_transform.py"))
        .args(aws_parameters().iter().map(|(key, value)| format!("{key}={value}")))
        .output()
        .expect("python in .venv runs sam_transform.py (localstack/test.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A parameter's value on AWS: the profile's, or the template's default.
pub fn parameter(template: &Value, name: &str) -> String {
    aws_parameters().remove(name).unwrap_or_else(|| {
        let default = &template["Parameters"][name]["Default"];
        default.as_str().map_or_else(|| default.to_string(), str::to_string)
    })
}
