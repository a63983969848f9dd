//! Ids and the clock: every id is a ULID made from the time it was created at.
use time::OffsetDateTime;

/// The current time in UTC at millisecond precision (what the store keeps).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000).unwrap_or(now)
}

/// A new, sortable id: ULIDs order by creation time, which the post listing relies on.
pub fn new_id(at: OffsetDateTime) -> String {
    ulid::Ulid::from_datetime(at.into()).to_string()
}

/// When the id was made (to the millisecond), if it is a ULID.
pub fn id_time(id: &str) -> Option<OffsetDateTime> {
    ulid::Ulid::from_string(id).ok().map(|ulid| OffsetDateTime::from(ulid.datetime()))
}

/// Whether `id` could be one of ours: an id as [`new_id`] writes it (26 characters of
/// upper-case Crockford base32). Anything else is answered 404 without reaching the store.
pub fn is_id(id: &str) -> bool {
    id.len() == 26 && ulid::Ulid::from_string(id).is_ok_and(|ulid| ulid.to_string() == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_we_write_are_ids() {
        let id = new_id(now());
        assert!(is_id(&id));
        for bad in [&id[1..], &id.to_lowercase(), "01KAQZ8Y4M1W2X3V5T6R7P8N9U", "", "../../etc", &"0".repeat(2000)] {
            assert!(!is_id(bad), "{bad}");
        }
    }

    #[test]
    fn new_ids_sort_by_time() {
        let earlier = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        let later = earlier + time::Duration::milliseconds(1);
        assert!(new_id(earlier) < new_id(later));
        assert_eq!(id_time(&new_id(later)), Some(later));
        assert_eq!(id_time("not an id"), None);
    }
}
