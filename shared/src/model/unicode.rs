//! Unicode rules for text that identifies a person: the invisible characters a display
//! name may not carry, and the one form an email or a password takes before it is compared.
use std::ops::RangeInclusive;

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): characters
/// drawn as nothing, which can hide text or, for the bidirectional controls among them,
/// reorder it.
const DEFAULT_IGNORABLE: &[RangeInclusive<char>] = &[
    '\u{00AD}'..='\u{00AD}',
    '\u{034F}'..='\u{034F}',
    '\u{061C}'..='\u{061C}',
    '\u{115F}'..='\u{1160}',
    '\u{17B4}'..='\u{17B5}',
    '\u{180B}'..='\u{180F}',
    '\u{200B}'..='\u{200F}',
    '\u{202A}'..='\u{202E}',
    '\u{2060}'..='\u{206F}',
    '\u{3164}'..='\u{3164}',
    '\u{FE00}'..='\u{FE0F}',
    '\u{FEFF}'..='\u{FEFF}',
    '\u{FFA0}'..='\u{FFA0}',
    '\u{FFF0}'..='\u{FFF8}',
    '\u{1BCA0}'..='\u{1BCA3}',
    '\u{1D173}'..='\u{1D17A}',
    '\u{E0000}'..='\u{E0FFF}',
];

/// The default-ignorable characters names and their emoji need: ZWNJ and ZWJ (Persian and
/// Indic spelling; emoji sequences such as 👩‍💻), the LRM and RLM marks, and the variation
/// selectors that ask for an emoji's colour form (❤️). They shape or join what is shown;
/// they neither hide it nor reorder it.
const NEEDED_IN_NAMES: &[RangeInclusive<char>] = &['\u{200C}'..='\u{200F}', '\u{FE00}'..='\u{FE0F}'];

/// Whether `c` may not appear in a display name: a default-ignorable character names do
/// not need (bidi embeddings, overrides and isolates, zero-width space, word joiner,
/// invisible operators, the byte order mark, fillers, tags…).
pub(crate) fn hidden_in_names(c: char) -> bool {
    let within = |ranges: &[RangeInclusive<char>]| ranges.iter().any(|range| range.contains(&c));
    within(DEFAULT_IGNORABLE) && !within(NEEDED_IN_NAMES)
}

/// NFKC: compatibility characters become the plain ones they stand for (`ｐａｓｓ` is
/// `pass`), the normalisation NIST SP 800-63B asks for before a password is hashed.
pub(crate) fn nfkc(text: &str) -> String {
    text.nfkc().collect()
}

/// The form an email address is a key in: NFKC, case-folded, NFKC again (Unicode's
/// compatibility caseless match), so `ＡＤＡ@example.com` and `ada@example.com` are one.
pub(crate) fn email_key(email: &str) -> String {
    email.nfkc().default_case_fold().nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_what_hides_or_reorders_and_keep_what_names_need() {
        for hidden in [
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{200B}',
            '\u{2060}',
            '\u{2064}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{3164}',
            '\u{E0041}',
        ] {
            assert!(hidden_in_names(hidden), "U+{:04X}", u32::from(hidden));
        }
        for needed in ['\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{FE0F}', 'a', 'é', ' ', '🦀', 'م'] {
            assert!(!hidden_in_names(needed), "U+{:04X}", u32::from(needed));
        }
    }

    #[test]
    fn emails_become_one_key_whatever_their_width_or_case() {
        assert_eq!(email_key("ＡＤＡ@example.com"), "ada@example.com");
        assert_eq!(email_key("Ada@Example.COM"), "ada@example.com");
        assert_eq!(email_key("ada@example.com"), "ada@example.com");
        assert_eq!(email_key("ÉLODIE@example.com"), email_key("e\u{301}lodie@example.com"));
    }

    #[test]
    fn passwords_take_their_compatibility_form() {
        assert_eq!(nfkc("ｐａｓｓ ｗｏｒｄ"), "pass word");
        assert_eq!(nfkc("ﬁne\u{00A0}Pass"), "fine Pass");
        assert_eq!(nfkc("Pass Word"), "Pass Word", "case is kept");
    }
}
