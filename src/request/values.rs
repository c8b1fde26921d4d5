//! Flag values with a grammar of their own (`prune`'s rules, `--serial`): the raw text the
//! command line holds, checked into the types the run uses.

use std::str::FromStr;

use crate::cli::RuleArgs;
use crate::fleet::rollout::BatchSize;
use crate::policy::{ImagePattern, LabelSelector, Rules, parse_duration, parse_size};

use super::InputError;

/// `prune`'s checked rules.
pub fn check_rules(args: &RuleArgs) -> Result<Rules, InputError> {
    Ok(Rules {
        matches: each("--match <PATTERN>", &args.matches, ImagePattern::from_str)?,
        older_than: one("--older-than <DURATION>", &args.older_than, parse_duration)?,
        keep_last: args.keep_last.map(|count| count as usize),
        keep: each("--keep <PATTERN>", &args.keep, ImagePattern::from_str)?,
        keep_labels: each(
            "--keep-label <KEY[=VALUE]>",
            &args.keep_label,
            LabelSelector::from_str,
        )?,
        max_usage: one("--max-usage <SIZE>", &args.max_usage, parse_size)?,
        until_free: one("--until-free <SIZE>", &args.until_free, parse_size)?,
    })
}

/// The `--serial` batch sizes.
pub fn check_serial(serial: &[String]) -> Result<Vec<BatchSize>, InputError> {
    each("--serial <N|P%>", serial, BatchSize::from_str)
}

fn each<T>(
    flag: &str,
    values: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, InputError> {
    values
        .iter()
        .map(|value| checked(flag, value, &parse))
        .collect()
}

fn one<T>(
    flag: &str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, InputError> {
    value
        .as_deref()
        .map(|value| checked(flag, value, &parse))
        .transpose()
}

fn checked<T>(
    flag: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, InputError> {
    parse(value).map_err(|cause| InputError::Invalid {
        message: format!("invalid value '{value}' for '{flag}': {cause}"),
        hint: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_its_flag_and_why() {
        let args = RuleArgs {
            older_than: Some("soon".to_string()),
            ..RuleArgs::default()
        };
        let error = check_rules(&args).expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("invalid value 'soon' for '--older-than <DURATION>': "),
            "{error}"
        );
        let error = check_serial(&["0".to_string()]).expect_err("refused");
        assert!(error.to_string().contains("'--serial <N|P%>'"), "{error}");
    }

    #[test]
    fn good_values_become_rules_and_batches() {
        let args = RuleArgs {
            matches: vec!["ci/*".to_string()],
            max_usage: Some("1GiB".to_string()),
            keep_label: vec!["keep".to_string()],
            ..RuleArgs::default()
        };
        let rules = check_rules(&args).expect("checked");
        assert_eq!(rules.matches.len(), 1);
        assert_eq!(rules.max_usage, Some(1 << 30));
        assert_eq!(rules.keep_labels.len(), 1);
        assert_eq!(
            check_serial(&["1".to_string(), "50%".to_string()]).expect("checked"),
            vec![BatchSize::Hosts(1), BatchSize::Percent(50.0)]
        );
    }
}
