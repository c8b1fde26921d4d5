//! One level of variables (a group's `vars`, or a host's entry under `hosts`), keyed by the names
//! they were written with, so that levels can be laid over each other by precedence.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use serde_saphyr::Spanned;

use super::connection::{Setting, check_setting};
use super::document::{Node, Source, YamlPath};
use super::error::{InventoryError, SourceLocation};
use super::template::is_template;

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

/// One variable: its value as written and where it was set (for messages about it later).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    pub(crate) value: Value,
    pub(crate) source: VarSource,
}

/// The variables of one level.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VarLayer {
    vars: BTreeMap<String, Var>,
}

impl VarLayer {
    /// Reads one mapping of variables. A connection variable without a template is checked here,
    /// where it is written, even if a deeper level overrides it later: a bad value is a mistake
    /// wherever it is. (A templated one is checked once rendered for each host.)
    pub(crate) fn read(
        entries: &[(Spanned<String>, Spanned<Node>)],
        path: &YamlPath,
        source: &Source<'_>,
        scope: &VarScope,
    ) -> Result<VarLayer, InventoryError> {
        let mut layer = VarLayer::default();
        for (key, node) in entries {
            let name = key.value.as_str();
            let value = node.value.to_json();
            // `defined` rather than `referenced`: through an alias, point at the value itself.
            let at = source.at(node.defined, &path.child(name));
            if let Some(setting) = Setting::from_name(name)
                && !is_template(&value)
            {
                check_setting(setting, name, &value, at.clone(), source.home)?;
            }
            let source = VarSource {
                scope: scope.clone(),
                at,
            };
            layer.insert(name, Var { value, source });
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

    /// A variable of this level.
    pub(crate) fn get(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
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
    fn variables_keep_the_name_they_were_written_with() {
        let vars = layer("port: 5432\nansible_ssh_user: ci\n").expect("valid vars");
        assert_eq!(
            vars.values(),
            BTreeMap::from([
                ("ansible_ssh_user".to_owned(), json!("ci")),
                ("port".to_owned(), json!(5432)),
            ])
        );
    }

    #[test]
    fn templated_connection_variable_is_checked_later() {
        let vars = layer("ansible_port: \"{{ base_port }}\"\n").expect("valid vars");
        assert_eq!(vars.values()["ansible_port"], json!("{{ base_port }}"));
    }

    #[test]
    fn free_form_vars_are_kept_as_written() {
        let vars = layer("team: infra\nlimits: {cpu: 2}\ntags: [a, b]\n").expect("valid vars");
        assert_eq!(vars.values()["limits"], json!({"cpu": 2}));
        assert_eq!(vars.values()["tags"], json!(["a", "b"]));
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
        let vars = layer("team: infra\nansible_port: 2222\n").expect("valid vars");
        let sources = vars.sources();
        assert_eq!(
            sources["ansible_port"].to_string(),
            "group all, inv.yaml:2:15"
        );
        assert_eq!(sources["team"].scope, VarScope::Group("all".to_owned()));
    }

    #[test]
    fn overlay_replaces_whole_values() {
        let mut lower = layer("ansible_port: 22\nopts: {a: 1, b: 2}\nkeep: yes\n").expect("valid");
        let upper = layer("ansible_port: 2222\nopts: {a: 3}\n").expect("valid");
        lower.overlay(&upper);
        assert_eq!(lower.values()["ansible_port"], json!(2222));
        assert_eq!(lower.values()["opts"], json!({"a": 3}));
        assert_eq!(lower.values()["keep"], json!(true));
    }
}
