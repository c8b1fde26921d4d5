//! Jinja templates in inventory variables (`ansible_host: "{{ inventory_hostname }}.{{ domain }}"`),
//! rendered with one host's variables as Ansible renders them when it connects. The engine is
//! minijinja, with the filters of Ansible's that need no Python; lookups, vault values and
//! Python methods are refused with a reason rather than guessed.

use std::collections::BTreeSet;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use serde_json::Value;

/// Renders a value again while its result is still a template (a variable whose value is a
/// template), up to this many times.
const MAX_DEPTH: usize = 10;

/// Why a template could not be rendered, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenderError {
    pub(crate) reason: String,
    pub(crate) hint: Option<String>,
}

/// Whether a value is a string holding a Jinja expression or statement.
pub(crate) fn is_template(value: &Value) -> bool {
    matches!(value, Value::String(text) if text.contains("{{") || text.contains("{%"))
}

/// Renders `text` with `context` (a host's variables, magic variables included). A result that
/// is itself a template is rendered again, as Ansible's lazy variables are.
pub(crate) fn render(
    text: &str,
    context: &serde_json::Map<String, Value>,
) -> Result<String, RenderError> {
    let env = environment();
    let mut current = text.to_owned();
    for _ in 0..MAX_DEPTH {
        if !is_template(&Value::String(current.clone())) {
            return Ok(current);
        }
        current = render_once(&env, &current, context)?;
    }
    Err(RenderError {
        reason: format!("still a template after {MAX_DEPTH} renderings: {current}"),
        hint: Some("a variable probably refers to itself, directly or through others".to_owned()),
    })
}

fn render_once(
    env: &Environment<'static>,
    text: &str,
    context: &serde_json::Map<String, Value>,
) -> Result<String, RenderError> {
    if text.contains("!vault") || text.contains("$ANSIBLE_VAULT") {
        return Err(RenderError {
            reason: "uses an Ansible Vault-encrypted value".to_owned(),
            hint: Some("fleetrmi cannot decrypt vault values: write this one in clear".to_owned()),
        });
    }
    let text = escape_backslashes(text);
    let template = env.template_from_str(&text).map_err(describe)?;
    let undefined: BTreeSet<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !context.contains_key(name) && !is_global(name))
        .collect();
    match template.render(context) {
        Ok(rendered) => Ok(rendered),
        Err(err) if err.kind() == ErrorKind::UndefinedError && !undefined.is_empty() => {
            let names: Vec<String> = undefined.iter().map(|name| format!("`{name}`")).collect();
            Err(RenderError {
                reason: format!("{} is not defined for this host", names.join(", ")),
                hint: Some(
                    "define it in the inventory or with -e, or give a fallback: `{{ x | default('...') }}`"
                        .to_owned(),
                ),
            })
        }
        Err(err) => Err(describe(err)),
    }
}

/// Doubles the backslashes in string literals inside `{{ }}`, as Ansible does before rendering,
/// so that `regex_replace('^n(\d+)$', 'x\1')` keeps its backslashes (YAML already took one
/// level of escaping; Ansible does not let Jinja take another).
fn escape_backslashes(text: &str) -> String {
    if !(text.contains('\\') && text.contains("{{")) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let (mut in_expression, mut quote) = (false, None::<char>);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_expression, quote, c) {
            (false, _, '{') if chars.peek() == Some(&'{') => {
                in_expression = true;
                out.push(c);
            }
            (true, None, '}') if chars.peek() == Some(&'}') => {
                in_expression = false;
                out.push(c);
            }
            (true, None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (true, Some(_), '\\') => {
                out.push_str("\\\\");
                if let Some(next) = chars.next() {
                    if next == '\\' {
                        out.push_str("\\\\");
                    } else {
                        out.push(next);
                    }
                }
            }
            (true, Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Names the environment itself provides.
fn is_global(name: &str) -> bool {
    matches!(
        name,
        "lookup" | "query" | "q" | "range" | "dict" | "namespace"
    )
}

fn describe(err: Error) -> RenderError {
    let needs_python = matches!(
        err.kind(),
        ErrorKind::UnknownMethod
            | ErrorKind::UnknownFilter
            | ErrorKind::UnknownFunction
            | ErrorKind::UnknownTest
    ) || err.detail().is_some_and(|detail| detail.contains("Python"));
    let reason = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    let hint = if needs_python {
        "fleetrmi renders Jinja without Python: Ansible's common filters (default, lower, upper, \
         replace, regex_replace, trim, int, string, bool, ternary, basename, dirname) work; \
         write the value in clear otherwise"
    } else {
        "check the template's syntax: `{{ expression }}`"
    };
    RenderError {
        reason,
        hint: Some(hint.to_owned()),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("ternary", ternary);
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("mandatory", mandatory);
    for name in ["lookup", "query", "q"] {
        env.add_function(name, needs_python_lookup);
    }
    env
}

fn needs_python_lookup(_args: minijinja::value::Rest<minijinja::Value>) -> Result<String, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        "lookups run Ansible's Python plugins, which fleetrmi does not have",
    ))
}

/// Python's `\1` and `\g<name>` back-references, in the regex crate's `${1}` spelling.
fn python_replacement(replacement: &str) -> String {
    let group = regex::Regex::new(r"\\(?:g<(\w+)>|(\d+))").map(|re| {
        re.replace_all(
            &replacement.replace('$', "$$"),
            |caps: &regex::Captures<'_>| {
                let name = caps
                    .get(1)
                    .or_else(|| caps.get(2))
                    .map_or("", |m| m.as_str());
                format!("${{{name}}}")
            },
        )
        .into_owned()
    });
    group.unwrap_or_else(|_| replacement.to_owned())
}

fn compile(pattern: &str, kwargs: &Kwargs) -> Result<regex::Regex, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase.unwrap_or(false))
        .multi_line(multiline.unwrap_or(false))
        .build()
        .map_err(|err| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("bad regular expression: {err}"),
            )
        })
}

fn regex_replace(
    value: String,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let re = compile(&pattern, &kwargs)?;
    let replacement = python_replacement(replacement.as_deref().unwrap_or(""));
    Ok(re.replace_all(&value, replacement.as_str()).into_owned())
}

fn regex_search(value: String, pattern: String, kwargs: Kwargs) -> Result<minijinja::Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    Ok(match re.find(&value) {
        Some(found) => minijinja::Value::from(found.as_str()),
        None => minijinja::Value::from(()),
    })
}

fn ternary(
    value: minijinja::Value,
    if_true: minijinja::Value,
    if_false: minijinja::Value,
) -> minijinja::Value {
    if value.is_true() { if_true } else { if_false }
}

fn basename(value: String) -> String {
    value.rsplit('/').next().unwrap_or("").to_owned()
}

fn dirname(value: String) -> String {
    match value.rfind('/') {
        Some(0) => "/".to_owned(),
        Some(end) => value[..end].to_owned(),
        None => String::new(),
    }
}

fn mandatory(value: minijinja::Value) -> Result<minijinja::Value, Error> {
    if value.is_undefined() {
        Err(Error::new(
            ErrorKind::UndefinedError,
            "a mandatory variable is not defined",
        ))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context(value: Value) -> serde_json::Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("expected an object"),
        }
    }

    #[test]
    fn renders_host_variables_and_chains_of_templates() {
        let vars = context(json!({
            "inventory_hostname": "db1",
            "mgmt_domain": "{{ site }}.example.net",
            "site": "mgmt",
        }));
        assert_eq!(
            render("{{ inventory_hostname }}.{{ mgmt_domain }}", &vars).expect("renders"),
            "db1.mgmt.example.net"
        );
    }

    #[test]
    fn ansible_filters_work() {
        let vars = context(json!({"name": "Web-01.Example", "port": "22"}));
        let cases = [
            ("{{ name | lower }}", "web-01.example"),
            ("{{ name | upper }}", "WEB-01.EXAMPLE"),
            ("{{ name | replace('-', '_') }}", "Web_01.Example"),
            (r"{{ name | regex_replace('^Web-(\d+).*$', 'w\1') }}", "w01"),
            ("{{ missing | default('x') }}", "x"),
            ("{{ missing | d('y') }}", "y"),
            ("{{ port | int + 1 }}", "23"),
            ("{{ ' a ' | trim }}", "a"),
            ("{{ true | ternary('yes', 'no') }}", "yes"),
            ("{{ '/a/b.sock' | basename }}", "b.sock"),
        ];
        for (template, expected) in cases {
            assert_eq!(
                render(template, &vars).expect(template),
                expected,
                "{template}"
            );
        }
    }

    #[test]
    fn backslashes_in_expression_strings_are_kept_as_ansible_keeps_them() {
        let vars = context(json!({"inventory_hostname": "node7"}));
        assert_eq!(
            render(
                r"{{ inventory_hostname | regex_replace('^node(\d+)$', '10.1.0.\1') }}",
                &vars
            )
            .expect("renders"),
            "10.1.0.7"
        );
        assert_eq!(escape_backslashes(r"a\b {{ 'x\y' }}"), r"a\b {{ 'x\\y' }}");
    }

    #[test]
    fn undefined_variable_is_named() {
        let err = render(
            "{{ inventory_hostname }}.{{ domain }}",
            &context(json!({"inventory_hostname": "a"})),
        )
        .expect_err("undefined");
        assert_eq!(err.reason, "`domain` is not defined for this host");
    }

    #[test]
    fn lookups_and_python_methods_are_refused() {
        let err =
            render("{{ lookup('env', 'HOME') }}", &serde_json::Map::new()).expect_err("lookup");
        assert!(err.reason.contains("Python"), "{err:?}");
        let err = render("{{ 'a,b'.split(',') }}", &serde_json::Map::new()).expect_err("method");
        assert!(err.hint.is_some_and(|hint| hint.contains("without Python")));
    }

    #[test]
    fn self_reference_stops() {
        let err = render("{{ a }}", &context(json!({"a": "{{ a }}"}))).expect_err("loop");
        assert!(err.reason.contains("still a template"), "{err:?}");
    }
}
