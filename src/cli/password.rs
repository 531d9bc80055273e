//! Where `kurz url create|update` read a link's password from: a file or stdin, never an
//! argument (arguments are visible to every user of the machine in `ps` and
//! `/proc/<pid>/cmdline`, and land in shell histories).

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;

#[derive(Debug, clap::Args)]
pub struct PasswordSource {
    /// Ask for a password before redirecting, read from this file (one trailing newline is
    /// dropped). Stored as an Argon2id hash.
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Ask for a password before redirecting, read from stdin (one trailing newline is
    /// dropped): `printf %s "$PW" | kurz url create ... --password-stdin`.
    #[arg(long)]
    pub password_stdin: bool,
}

impl PasswordSource {
    /// The password given, if one was; its checks (not empty, at most 1 024 bytes) are the
    /// links service's.
    pub fn read(&self) -> anyhow::Result<Option<String>> {
        let text = if let Some(path) = &self.password_file {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", path.display()))?
        } else if self.password_stdin {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from stdin")?;
            text
        } else {
            return Ok(None);
        };
        Ok(Some(without_final_newline(text)))
    }
}

/// `echo` and editors end a file with a newline that is not part of the password.
fn without_final_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_final_newline_is_dropped() {
        let cases = [
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            ("s3cret", "s3cret"),
            ("s3cret\n\n", "s3cret\n"),
            (" s3cret ", " s3cret "),
            ("\n", ""),
        ];
        for (given, read) in cases {
            assert_eq!(without_final_newline(given.into()), read, "{given:?}");
        }
    }
}
