//! One level of variables (a group's `vars`, or a host's entry under `hosts`), checked and keyed
//! by canonical names, so that levels can be laid over each other by precedence.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use serde_saphyr::Spanned;

use super::connection::{Setting, SettingValue, check_setting};
use super::document::{Node, Source, YamlPath};
use super::error::{InventoryError, SourceLocation};

/// The level of the inventory that set a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarScope {
    /// A group's `vars`, or a file under `group_vars/`.
    Group(String),
    /// A host's own variables, or a file under `host_vars/`.
    Host(String),
    /// The port written in a host key, e.g. `web1:2222`.
    HostKey(String),
    /// `-e/--extra-vars` on the command line.
    ExtraVars,
}

/// Where a variable's effective value comes from: the level that set it and the place it is
/// written, e.g. `group lab, inventories/x.yaml:7:9`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarSource {
    pub scope: VarScope,
    pub at: SourceLocation,
}

impl fmt::Display for VarSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            VarScope::Group(group) => write!(f, "group {group}, {}", self.at),
            VarScope::Host(host) => write!(f, "host {host}, {}", self.at),
            VarScope::HostKey(key) => write!(f, "host key `{key}`, {}", self.at),
            VarScope::ExtraVars => write!(f, "{}", self.at),
        }
    }
}

/// One variable: its value as written, the checked setting when it is a connection variable, and
/// where it was set (for messages about it later).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    pub(crate) value: Value,
    pub(crate) setting: Option<SettingValue>,
    pub(crate) source: VarSource,
}

/// The variables of one level. Connection variables are stored under their Ansible name even
/// when the file used an alias.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VarLayer {
    vars: BTreeMap<String, Var>,
}

impl VarLayer {
    /// Reads one mapping of variables. A connection variable is checked here, where it is
    /// written, even if a deeper level overrides it later: a bad value is a mistake wherever it is.
    pub(crate) fn read(
        entries: &[(Spanned<String>, Spanned<Node>)],
        path: &YamlPath,
        source: &Source<'_>,
        scope: &VarScope,
    ) -> Result<VarLayer, InventoryError> {
        let mut layer = VarLayer::default();
        // Which name set each connection setting in this mapping, and on which line.
        let mut setters: BTreeMap<&'static str, (&str, u64)> = BTreeMap::new();
        for (key, node) in entries {
            let name = key.value.as_str();
            let var_path = path.child(name);
            let value = node.value.to_json();
            // `defined` rather than `referenced`: through an alias, point at the value itself.
            let at = source.at(node.defined, &var_path);
            let (stored_name, setting) = match Setting::from_name(name) {
                None => (name.to_owned(), None),
                Some(setting) => {
                    let canonical = setting.canonical();
                    let line = key.referenced.line();
                    if let Some((other, other_line)) = setters.insert(canonical, (name, line)) {
                        return Err(InventoryError::ConflictingAlias {
                            at: source.at(key.referenced, &var_path),
                            name: name.to_owned(),
                            other: other.to_owned(),
                            other_line,
                            canonical,
                        });
                    }
                    let checked = check_setting(setting, name, &value, at.clone(), source.home)?;
                    (canonical.to_owned(), Some(checked))
                }
            };
            let source = VarSource {
                scope: scope.clone(),
                at,
            };
            layer.vars.insert(
                stored_name,
                Var {
                    value,
                    setting,
                    source,
                },
            );
        }
        Ok(layer)
    }

    /// Sets one variable, replacing any earlier value.
    pub(crate) fn insert(&mut self, name: &str, var: Var) {
        self.vars.insert(name.to_owned(), var);
    }

    /// Whether no variable is set.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Lays `upper` over this level: where both set a variable, `upper` wins. Values are replaced
    /// whole, never deep-merged (Ansible's default `hash_behaviour = replace`).
    pub(crate) fn overlay(&mut self, upper: &VarLayer) {
        for (name, var) in &upper.vars {
            self.vars.insert(name.clone(), var.clone());
        }
    }

    /// The checked value of a connection setting, if this level sets it.
    pub(crate) fn setting(&self, setting: Setting) -> Option<&SettingValue> {
        self.vars.get(setting.canonical())?.setting.as_ref()
    }

    /// Removes a variable, for those that configure the inventory itself rather than a host.
    pub(crate) fn take(&mut self, name: &str) -> Option<Var> {
        self.vars.remove(name)
    }

    /// The values, by name.
    pub(crate) fn values(&self) -> BTreeMap<String, Value> {
        self.vars
            .iter()
            .map(|(name, var)| (name.clone(), var.value.clone()))
            .collect()
    }

    /// Where each value comes from, by name.
    pub(crate) fn sources(&self) -> BTreeMap<String, VarSource> {
        self.vars
            .iter()
            .map(|(name, var)| (name.clone(), var.source.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::super::document::read_document;
    use super::*;

    fn layer(yaml: &str) -> Result<VarLayer, InventoryError> {
        let root = read_document(yaml, Path::new("inv.yaml")).expect("valid YAML");
        let Node::Mapping(entries) = &root.value else {
            panic!("expected a mapping");
        };
        let source = Source {
            file: Path::new("inv.yaml"),
            home: Some(Path::new("/home/ci")),
        };
        VarLayer::read(
            entries,
            &YamlPath::default().child("vars"),
            &source,
            &VarScope::Group("all".to_owned()),
        )
    }

    #[test]
    fn alias_is_stored_under_ansible_name() {
        let vars = layer("port: 2222\nuser: ci\n").expect("valid vars");
        assert_eq!(vars.setting(Setting::Port), Some(&SettingValue::Port(2222)));
        assert_eq!(
            vars.values(),
            BTreeMap::from([
                ("ansible_port".to_owned(), json!(2222)),
                ("ansible_user".to_owned(), json!("ci")),
            ])
        );
    }

    #[test]
    fn free_form_vars_are_kept_as_written() {
        let vars = layer("team: infra\nlimits: {cpu: 2}\ntags: [a, b]\n").expect("valid vars");
        assert_eq!(vars.values()["limits"], json!({"cpu": 2}));
        assert_eq!(vars.values()["tags"], json!(["a", "b"]));
        assert_eq!(vars.setting(Setting::Port), None);
    }

    #[test]
    fn name_and_alias_in_the_same_mapping_conflict() {
        let err = layer("ansible_port: 22\nuser: ci\nport: 2222\n").expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "inv.yaml:3:1: `port` and `ansible_port` (line 1) both set ansible_port"
        );
        assert_eq!(err.hint(), Some("keep only one of the two"));
    }

    #[test]
    fn two_aliases_of_one_setting_conflict() {
        let err = layer("address: a\nansible_ssh_host: b\n").expect_err("conflict");
        assert!(matches!(
            err,
            InventoryError::ConflictingAlias {
                canonical: "ansible_host",
                ..
            }
        ));
    }

    #[test]
    fn invalid_value_is_reported_at_the_value() {
        let err = layer("team: infra\nansible_port: abc\n").expect_err("bad port");
        assert_eq!(
            err.to_string(),
            r#"inv.yaml:2:15: ansible_port must be an integer from 1 to 65535, found "abc""#
        );
        let at = err.location().expect("located");
        assert_eq!(at.yaml_path(), "vars > ansible_port");
    }

    #[test]
    fn invalid_value_behind_an_alias_is_reported_where_it_is_defined() {
        let root = "x: &bad 0\nvars:\n  ansible_port: *bad\n";
        let doc = read_document(root, Path::new("inv.yaml")).expect("valid YAML");
        let Node::Mapping(entries) = &doc.value else {
            panic!("expected a mapping");
        };
        let Node::Mapping(vars) = &entries[1].1.value else {
            panic!("expected vars mapping");
        };
        let source = Source {
            file: Path::new("inv.yaml"),
            home: None,
        };
        let err = VarLayer::read(vars, &YamlPath::default(), &source, &VarScope::ExtraVars)
            .expect_err("port 0");
        let at = err.location().expect("located");
        assert_eq!((at.line(), at.column()), (Some(1), Some(9)));
    }

    #[test]
    fn each_variable_remembers_its_level_and_place() {
        let vars = layer("team: infra\nport: 2222\n").expect("valid vars");
        let sources = vars.sources();
        assert_eq!(
            sources["ansible_port"].to_string(),
            "group all, inv.yaml:2:7"
        );
        assert_eq!(sources["team"].scope, VarScope::Group("all".to_owned()));
    }

    #[test]
    fn overlay_replaces_whole_values() {
        let mut lower = layer("ansible_port: 22\nopts: {a: 1, b: 2}\nkeep: yes\n").expect("valid");
        let upper = layer("port: 2222\nopts: {a: 3}\n").expect("valid");
        lower.overlay(&upper);
        assert_eq!(
            lower.setting(Setting::Port),
            Some(&SettingValue::Port(2222))
        );
        assert_eq!(lower.values()["opts"], json!({"a": 3}));
        assert_eq!(lower.values()["keep"], json!(true));
    }
}
