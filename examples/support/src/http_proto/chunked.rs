//! The chunked transfer coding (RFC 9112 §7.1), decoded a byte at a time as it arrives:
//! chunk-size [ext] CRLF, data CRLF, …, `0` CRLF, trailer field lines, CRLF. The decoder's
//! whole state is one small [`Chunk`] value, so a read that ends anywhere costs nothing to
//! resume, and data is copied into the body at once: no byte is looked at twice.

use super::head::is_tchar;
use super::{Conn, MAX_CHUNK_LINE, MAX_HEADERS, State, count};

/// Where the chunked decoder is (RFC 9112 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chunk {
    /// At the start of a chunk-size line.
    SizeStart,
    /// In the hex digits: the size so far and the line length so far.
    Size {
        size: usize,
        line: usize,
    },
    /// After the digits and some whitespace: only `;` may follow.
    SizeWs {
        size: usize,
        line: usize,
    },
    /// In the extensions.
    Ext {
        size: usize,
        line: usize,
    },
    /// Saw the CR ending a size line.
    SizeLf {
        size: usize,
    },
    /// In a chunk's data: bytes left.
    Data(usize),
    /// After the data: CR, then LF.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final CRLF): trailer bytes and fields so far.
    TrailerStart {
        bytes: usize,
        fields: usize,
    },
    /// In a trailer field's name.
    TrailerName {
        bytes: usize,
        fields: usize,
    },
    /// In a trailer field's value.
    TrailerValue {
        bytes: usize,
        fields: usize,
    },
    /// Saw the CR ending a trailer line (`end`: it was the empty line).
    TrailerLf {
        bytes: usize,
        fields: usize,
        end: bool,
    },
}

impl Conn {
    /// Runs the chunked decoder over `buf[*pos..]`: `Ok(Some(()))` when the body (trailers
    /// included) is complete, `Ok(None)` when it needs more bytes, `Err(status)` on a framing
    /// error or a limit.
    pub(super) fn decode_chunked(
        &mut self,
        mut c: Chunk,
        buf: &[u8],
        pos: &mut usize,
    ) -> Result<Option<()>, u16> {
        let max_body = self.limits.max_body;
        let max_framing = max_body.saturating_mul(2).saturating_add(64 * 1024);
        let max_trailer = self.limits.max_header;
        let mut i = *pos;
        let result = loop {
            if let Chunk::Data(left) = c {
                let take = left.min(buf.len() - i);
                self.body.extend_from_slice(&buf[i..i + take]);
                i += take;
                if take < left {
                    c = Chunk::Data(left - take);
                    break Ok(None);
                }
                c = Chunk::DataCr;
                continue;
            }
            let Some(&b) = buf.get(i) else {
                break Ok(None);
            };
            i += 1;
            self.framing += 1;
            if self.framing > max_framing {
                break Err(413);
            }
            c = match c {
                Chunk::SizeStart => match hex(b) {
                    Some(d) => Chunk::Size { size: d, line: 1 },
                    None => break Err(400),
                },
                Chunk::Size { line, .. } | Chunk::SizeWs { line, .. } | Chunk::Ext { line, .. }
                    if line >= MAX_CHUNK_LINE =>
                {
                    break Err(400);
                }
                Chunk::Size { size, line } => match b {
                    b'\r' => Chunk::SizeLf { size },
                    b';' => Chunk::Ext {
                        size,
                        line: line + 1,
                    },
                    b' ' | b'\t' => Chunk::SizeWs {
                        size,
                        line: line + 1,
                    },
                    _ => match hex(b) {
                        Some(d) => {
                            let size = match size.checked_mul(16).and_then(|s| s.checked_add(d)) {
                                Some(s) if s <= max_body => s,
                                // Larger than any body we take: 413 whatever it says.
                                _ => break Err(413),
                            };
                            Chunk::Size {
                                size,
                                line: line + 1,
                            }
                        }
                        None => break Err(400),
                    },
                },
                Chunk::SizeWs { size, line } => match b {
                    b' ' | b'\t' => Chunk::SizeWs {
                        size,
                        line: line + 1,
                    },
                    b';' => Chunk::Ext {
                        size,
                        line: line + 1,
                    },
                    _ => break Err(400),
                },
                Chunk::Ext { size, line } => match b {
                    b'\r' => Chunk::SizeLf { size },
                    b'\t' | b' '..=b'~' | 0x80..=0xff => Chunk::Ext {
                        size,
                        line: line + 1,
                    },
                    _ => break Err(400),
                },
                Chunk::SizeLf { size } => {
                    if b != b'\n' {
                        break Err(400);
                    }
                    if size == 0 {
                        Chunk::TrailerStart {
                            bytes: 0,
                            fields: 0,
                        }
                    } else {
                        if self.body.len() + size > max_body {
                            break Err(413);
                        }
                        Chunk::Data(size)
                    }
                }
                Chunk::Data(_) => unreachable!("handled above"),
                Chunk::DataCr => match b {
                    b'\r' => Chunk::DataLf,
                    _ => break Err(400),
                },
                Chunk::DataLf => match b {
                    b'\n' => Chunk::SizeStart,
                    _ => break Err(400),
                },
                Chunk::TrailerStart { bytes, fields }
                | Chunk::TrailerName { bytes, fields }
                | Chunk::TrailerValue { bytes, fields }
                    if bytes >= max_trailer || fields > MAX_HEADERS =>
                {
                    break Err(431);
                }
                Chunk::TrailerStart { bytes, fields } => match b {
                    b'\r' => Chunk::TrailerLf {
                        bytes: bytes + 1,
                        fields,
                        end: true,
                    },
                    _ if is_tchar(b) => Chunk::TrailerName {
                        bytes: bytes + 1,
                        fields: fields + 1,
                    },
                    // obs-fold, a missing name, a bare LF, a control character.
                    _ => break Err(400),
                },
                Chunk::TrailerName { bytes, fields } => match b {
                    b':' => Chunk::TrailerValue {
                        bytes: bytes + 1,
                        fields,
                    },
                    _ if is_tchar(b) => Chunk::TrailerName {
                        bytes: bytes + 1,
                        fields,
                    },
                    _ => break Err(400),
                },
                Chunk::TrailerValue { bytes, fields } => match b {
                    b'\r' => Chunk::TrailerLf {
                        bytes: bytes + 1,
                        fields,
                        end: false,
                    },
                    b'\t' | b' '..=b'~' | 0x80..=0xff => Chunk::TrailerValue {
                        bytes: bytes + 1,
                        fields,
                    },
                    _ => break Err(400),
                },
                Chunk::TrailerLf { bytes, fields, end } => {
                    if b != b'\n' {
                        break Err(400);
                    }
                    if end {
                        break Ok(Some(()));
                    }
                    Chunk::TrailerStart {
                        bytes: bytes + 1,
                        fields,
                    }
                }
            };
        };
        count(i - *pos);
        *pos = i;
        if let Ok(None) = result {
            self.state = State::Chunked(c);
        }
        result
    }
}

fn hex(b: u8) -> Option<usize> {
    match b {
        b'0'..=b'9' => Some(usize::from(b - b'0')),
        b'a'..=b'f' => Some(usize::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(usize::from(b - b'A' + 10)),
        _ => None,
    }
}
