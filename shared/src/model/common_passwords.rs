//! The passwords attackers try first. The list is the one Django ships
//! (`django/contrib/auth/common-passwords.txt.gz`, BSD-3-Clause; compiled by Royce
//! Williams from breach data, 19,640 passwords in order of frequency), keeping the
//! 8,354 entries of 8 to 128 characters: the only ones our length rule would let through.
use std::collections::HashSet;
use std::sync::LazyLock;

const LIST: &str = include_str!("../../data/common-passwords.txt");

// Built on first use, so only signup pays for it, once per sandbox.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| LIST.lines().collect());

/// True when `password`, compared case-insensitively, is on the list.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_lower_case_and_within_the_length_rule() {
        let entries: Vec<&str> = LIST.lines().collect();
        assert_eq!(entries.len(), 8_354);
        assert!(entries.iter().all(|p| *p == p.to_lowercase()));
        assert!(entries.iter().all(|p| crate::model::PASSWORD_CHARS.contains(&p.chars().count())));
    }

    #[test]
    fn matches_case_insensitively_and_only_whole_passwords() {
        for common in ["password", "PassWord123", "QWERTYUIOP", "iloveyou"] {
            assert!(is_common(common), "{common}");
        }
        for fine in ["correct horse battery staple", "password1234567890xyz", " password", ""] {
            assert!(!is_common(fine), "{fine}");
        }
    }
}
