//! What each message says: short, plain text and the same in HTML, with the link and what
//! to do if you did not ask. No user-written text goes into a message.
use super::Message;
use crate::model::Secret;

/// The message that verifies `to` with `link`, valid for `hours`.
pub(super) fn verify_email(to: &str, link: &Secret, hours: i64) -> Message {
    let subject = "Verify your email address".to_owned();
    let lines = [
        "Someone signed up for a blog account with this email address.",
        "If it was you, open this link to verify the address:",
    ];
    let after = [
        format!("The link works once, for {hours} hours."),
        "If it was not you, ignore this message: no account is verified without it.".to_owned(),
    ];
    compose(to, subject, &lines, link, &after)
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
        let message = verify_email("ada@example.com", &link, 24);
        assert_eq!(message.to, "ada@example.com");
        assert!(message.text.contains(&link.0) && message.text.contains("24 hours"));
        assert!(message.text.contains("ignore this message"));
        let escaped = "https://blog.example.com/#/verify-email?token=a&amp;b=&quot;c&quot;";
        assert!(message.html.contains(&format!("<a href=\"{escaped}\">{escaped}</a>")), "{}", message.html);
        assert!(!message.html.contains("b=\"c"), "the link cannot break out of its attribute");
    }
}
