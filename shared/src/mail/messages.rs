//! What each message says: short, plain text and the same in HTML, with the link and what
//! to do if you did not ask. No user-written text goes into a message.
use super::Message;
use crate::auth::TokenPurpose;
use crate::model::Secret;

/// The message that verifies `to` with `link`.
pub(super) fn verify_email(to: &str, link: &Secret) -> Message {
    let lines = [
        "Someone signed up for a blog account with this email address.",
        "If it was you, open this link to verify the address:",
    ];
    let after = [
        format!("The link works once, for {}.", lifetime(TokenPurpose::VerifyEmail)),
        "If it was not you, ignore this message: no account is verified without it.".to_owned(),
    ];
    compose(to, "Verify your email address".to_owned(), &lines, link, &after)
}

/// The message that lets the account of `to` choose a new password with `link`.
pub(super) fn reset_password(to: &str, link: &Secret) -> Message {
    let lines = [
        "Someone asked to reset the password of the blog account with this email address.",
        "If it was you, open this link to choose a new password:",
    ];
    let after = [
        format!(
            "The link works once, for {}. Every session of the account ends when it is used.",
            lifetime(TokenPurpose::ResetPassword)
        ),
        "If it was not you, ignore this message: your password stays as it is.".to_owned(),
    ];
    compose(to, "Reset your password".to_owned(), &lines, link, &after)
}

/// How long a token of `purpose` works, in words.
fn lifetime(purpose: TokenPurpose) -> String {
    let lifetime = purpose.lifetime();
    match lifetime.whole_hours() {
        0 => format!("{} minutes", lifetime.whole_minutes()),
        hours => format!("{hours} hours"),
    }
}

fn compose(to: &str, subject: String, before: &[&str], link: &Secret, after: &[String]) -> Message {
    let text = format!("{}\n\n{}\n\n{}\n", before.join("\n"), link.0, after.join("\n"));
    let paragraphs = |lines: &mut dyn Iterator<Item = &str>| {
        lines.map(|line| format!("<p>{}</p>", escape_html(line))).collect::<String>()
    };
    let url = escape_html(&link.0);
    let html = format!(
        "<!doctype html><html><body>{}<p><a href=\"{url}\">{url}</a></p>{}</body></html>",
        paragraphs(&mut before.iter().copied()),
        paragraphs(&mut after.iter().map(String::as_str)),
    );
    Message { to: to.to_owned(), subject, text, html, link: link.clone() }
}

/// Text as HTML text or a quoted attribute value.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verification_message_carries_the_link_in_both_bodies() {
        let link = Secret::from("https://blog.example.com/#/verify-email?token=a&b=\"c\"");
        let message = verify_email("ada@example.com", &link);
        assert_eq!(message.to, "ada@example.com");
        assert!(message.text.contains(&link.0) && message.text.contains("24 hours"));
        assert!(message.text.contains("ignore this message"));
        let escaped = "https://blog.example.com/#/verify-email?token=a&amp;b=&quot;c&quot;";
        assert!(message.html.contains(&format!("<a href=\"{escaped}\">{escaped}</a>")), "{}", message.html);
        assert!(!message.html.contains("b=\"c"), "the link cannot break out of its attribute");
    }

    #[test]
    fn the_reset_message_says_how_long_and_what_if_you_did_not_ask() {
        let message = reset_password("ada@example.com", &Secret::from("https://b.example/#/reset-password?token=t"));
        assert_eq!(message.subject, "Reset your password");
        assert!(message.text.contains("for 30 minutes") && message.text.contains("your password stays as it is"));
        assert!(message.html.contains("https://b.example/#/reset-password?token=t"));
    }
}
