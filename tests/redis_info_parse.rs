//! The INFO parser on a real capture, and on random or mutated text: never a panic.

use opsdeck::sources::redis::info::parse_info;
use proptest::prelude::*;

const REAL: &str = include_str!("fixtures/redis/info.txt");

#[test]
fn real_capture_parses_into_typed_fields() {
    let info = parse_info(REAL).expect("a real INFO everything reply parses");
    assert_eq!(info.keyspace_hits, Some(1));
    assert_eq!(info.keyspace_misses, Some(1));
    assert_eq!(info.maxmemory_policy.as_deref(), Some("noeviction"));
    assert_eq!(info.cluster_enabled, Some(false));
    assert_eq!(info.role.as_deref(), Some("master"));
    assert_eq!(info.total_keys(), 1);
    assert!(info.used_memory.unwrap() > 0);
    assert!(info.mem_fragmentation_ratio.unwrap() > 0.0);
    assert!(info.run_id.as_deref().is_some_and(|r| r.len() == 40));
}

proptest! {
    #[test]
    fn random_text_never_panics(text in "\\PC*") {
        let _ = parse_info(&text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse_info(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_capture_never_panics(
        cut in 0..REAL.len(),
        pos in 0..REAL.len(),
        insert in "[:=,\\r\\n#a-z0-9.\\-]{0,12}",
    ) {
        let mut text: String = REAL.chars().take(cut).collect();
        let at = text.char_indices().nth(pos % (text.chars().count() + 1)).map_or(text.len(), |(i, _)| i);
        text.insert_str(at, &insert);
        let _ = parse_info(&text);
    }

    #[test]
    fn unknown_fields_are_ignored(field in "[a-z_]{3,20}", value in "[ -~]{0,30}") {
        prop_assume!(!field.starts_with("db"));
        let known = ["run_id", "uptime_in_seconds", "role", "connected_clients", "used_memory",
            "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio", "total_commands_processed",
            "keyspace_hits", "keyspace_misses", "expired_keys", "evicted_keys", "cluster_enabled"];
        prop_assume!(!known.contains(&field.as_str()));
        let text = format!("{REAL}{field}:{value}\r\n");
        prop_assert_eq!(parse_info(&text).unwrap(), parse_info(REAL).unwrap());
    }

    #[test]
    fn a_line_without_colon_is_an_error(junk in "[a-z ]{1,20}") {
        prop_assume!(!junk.trim().is_empty());
        let text = format!("{REAL}{junk}\r\n");
        prop_assert!(parse_info(&text).is_err());
    }
}
