//! `\r\n` read as `\n`, for CSV files from Windows and spreadsheets: the csv crate counts a
//! CRLF record's line when it reaches the `\n`, after it has handed out the record, so every
//! line number it reports for such a file is one too low (rust-csv#395). A `\r` that is not
//! followed by `\n` is kept. Inside a quoted cell a CRLF becomes LF too; no column kurz
//! imports may hold a line break anyway.

use std::io::{self, BufRead, Read};

pub struct CrlfAsLf<R> {
    inner: R,
    /// A `\r` ended the last chunk; the next byte decides whether it is kept.
    held_cr: bool,
}

impl<R: BufRead> CrlfAsLf<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            held_cr: false,
        }
    }
}

impl<R: BufRead> Read for CrlfAsLf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                let lone_cr = std::mem::take(&mut self.held_cr);
                if lone_cr {
                    out[0] = b'\r';
                }
                return Ok(usize::from(lone_cr));
            }
            if std::mem::take(&mut self.held_cr) && input[0] != b'\n' {
                out[0] = b'\r';
                return Ok(1);
            }
            let (mut used, mut written) = (0, 0);
            while used < input.len() && written < out.len() {
                let byte = input[used];
                used += 1;
                if byte == b'\r' {
                    match input.get(used) {
                        Some(b'\n') => continue,
                        Some(_) => {}
                        None => {
                            self.held_cr = true;
                            continue;
                        }
                    }
                }
                out[written] = byte;
                written += 1;
            }
            self.inner.consume(used);
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::BufReader;

    fn convert(input: &str, chunk: usize, read_size: usize) -> String {
        let mut reader = CrlfAsLf::new(BufReader::with_capacity(chunk, input.as_bytes()));
        let mut out = Vec::new();
        let mut buffer = vec![0; read_size];
        loop {
            let n = reader.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn crlf_becomes_lf_and_lone_cr_stays() {
        assert_eq!(convert("a,b\r\nc,d\r\n", 64, 64), "a,b\nc,d\n");
        assert_eq!(convert("a\rb\r", 64, 64), "a\rb\r");
        assert_eq!(convert("a\r\r\nb", 1, 1), "a\r\nb");
    }

    proptest! {
        #[test]
        fn same_as_replacing_crlf_whatever_the_chunks(
            input in "[ab\r\n]{0,40}",
            chunk in 1usize..8,
            read_size in 1usize..8,
        ) {
            prop_assert_eq!(convert(&input, chunk, read_size), input.replace("\r\n", "\n"));
        }
    }
}
