//! The messages from the client, checked before the protocol library reads them: a message
//! whose body is not JSON, or whose header is malformed, would end `tower-lsp-server`'s reading
//! of the input, and so the server. Such a message is left out, with a line on stderr (the
//! editor's log), and the server goes on.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The largest message taken: a rule file may hold 16 MiB, and JSON escaping can make that
/// several times longer.
pub const MAX_MESSAGE: usize = 128 << 20;

/// Copies each well-formed message (`Content-Length` header, JSON body) from `input` to
/// `output`, until `input` ends or `output` is closed.
pub async fn pass_well_formed(input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut reader = BufReader::new(input);
    loop {
        let mut length: Option<usize> = None;
        let mut header_lines = 0;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                if header_lines == 0 {
                    continue;
                }
                break;
            }
            header_lines += 1;
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().ok();
            }
        }
        let Some(length) = length else {
            eprintln!("tally lsp: left out a message without a valid Content-Length header");
            continue;
        };
        if length > MAX_MESSAGE {
            eprintln!("tally lsp: left out a message of {length} bytes, more than {MAX_MESSAGE}");
            let skipped = tokio::io::copy(
                &mut (&mut reader).take(length as u64),
                &mut tokio::io::sink(),
            )
            .await;
            if skipped.is_err() {
                return;
            }
            continue;
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        if let Err(e) = serde_json::from_slice::<Value>(&body) {
            eprintln!("tally lsp: left out a message that is not JSON: {e}");
            continue;
        }
        let header = format!("Content-Length: {length}\r\n\r\n");
        let written = async {
            output.write_all(header.as_bytes()).await?;
            output.write_all(&body).await?;
            output.flush().await
        };
        if written.await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_messages_are_left_out() {
        let input: &[u8] = b"Content-Length: 2\r\n\r\n{}Content-Length: 5\r\n\r\n{ bad\r\nX-Other: 1\r\n\r\nContent-Length: 7\r\n\r\n[1,2,3]";
        let mut output = Vec::new();
        pass_well_formed(input, &mut output).await;
        assert_eq!(
            String::from_utf8(output).unwrap(),
            "Content-Length: 2\r\n\r\n{}Content-Length: 7\r\n\r\n[1,2,3]"
        );
    }
}
