//! A host whose sshd offers no sftp subsystem (hardened hosts, minimal configs): only its free
//! space goes unmeasured, said as such, and it costs no more time than the other hosts.

use crate::harness::lab;

const NO_SFTP: &str = "free space not measured: sshd offers no sftp subsystem";

/// A host's wall time in the JSON report.
fn duration_ms(host: &serde_json::Value) -> u64 {
    host["duration_ms"].as_u64().expect("duration_ms")
}

/// The bound is the feature: the host without sftp takes at most a second more than the other.
fn assert_within_a_second(json: &serde_json::Value) {
    let (normal, without) = (
        duration_ms(&json["hosts"][0]),
        duration_ms(&json["hosts"][1]),
    );
    assert!(
        without <= normal + 1000,
        "the host without sftp took {without} ms, the other {normal} ms"
    );
}

fn warnings(host: &serde_json::Value) -> Vec<String> {
    host["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|warning| warning.as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_host_without_sftp_goes_on_at_once_for_rmi_df_and_ping() {
    let hosts = lab().take(2);
    hosts.stop("sftp", 1);

    let run = hosts.fleetrmi(&["--timeout", "20s", "--output", "json", "rmi", "purge:1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let (normal, without) = (&json["hosts"][0], &json["hosts"][1]);
    assert_eq!(without["status"], "ok", "{without}");
    assert_eq!(warnings(without), [NO_SFTP]);
    assert!(without["space_before"].is_null() && without["space_after"].is_null());
    assert!(warnings(normal).is_empty(), "{normal}");
    assert!(normal["space_after"]["free_bytes"].is_u64(), "{normal}");
    assert_eq!(without["results"][0]["untagged"][0], "purge:1");
    assert!(!hosts.has_tag(0, "purge:1") && !hosts.has_tag(1, "purge:1"));
    assert_within_a_second(&json);
    assert!(
        run.stderr
            .contains(&format!("warning: {}: {NO_SFTP}", hosts.host(1).name)),
        "{}",
        run.stderr
    );

    let run = hosts.fleetrmi(&["--output", "json", "df"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(warnings(&json["hosts"][1]), [NO_SFTP]);
    assert!(json["hosts"][0]["filesystem"].is_object());
    assert_within_a_second(&json);

    let run = hosts.fleetrmi(&["--output", "json", "ping"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_within_a_second(&run.json());
}
