//! The protobuf wire format: varints, keys, fixed-width and length-delimited values.
//!
//! [`Reader`] reads one message's bytes and never reads past them: every length is
//! checked against what is left before anything is sliced, so a hostile length costs
//! nothing. Offsets in errors are absolute (from the start of the HTTP body), which is
//! what a person reading a hex dump of the body wants.

use std::fmt;

/// How a field's value is laid out on the wire (the low three bits of its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    /// A base-128 varint (int32, int64, uint*, sint*, bool, enum).
    Varint,
    /// Eight little-endian bytes (fixed64, sfixed64, double).
    Fixed64,
    /// A varint length, then that many bytes (string, bytes, messages, packed repeated).
    LengthDelimited,
    /// Four little-endian bytes (fixed32, sfixed32, float).
    Fixed32,
}

impl fmt::Display for WireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "64-bit",
            WireType::LengthDelimited => "length-delimited",
            WireType::Fixed32 => "32-bit",
        })
    }
}

/// What is wrong with a protobuf body at some offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    /// The body ends inside a varint.
    #[error("truncated varint")]
    TruncatedVarint,
    /// A varint runs past ten bytes, more than any 64-bit value needs.
    #[error("varint longer than 10 bytes")]
    VarintOverflow,
    /// A fixed-width value needs more bytes than are left.
    #[error("truncated {width}-byte value")]
    TruncatedFixed {
        /// Bytes the value needs.
        width: usize,
    },
    /// A length prefix points past the end of the enclosing message.
    #[error("length {length} exceeds the {remaining} bytes left")]
    LengthPastEnd {
        /// The declared length.
        length: u64,
        /// Bytes left in the enclosing message.
        remaining: usize,
    },
    /// Wire types 6 and 7 do not exist.
    #[error("invalid wire type {0}")]
    InvalidWireType(u8),
    /// Groups (wire types 3 and 4) are a proto2 relic Kubernetes never writes.
    #[error("group wire types are not supported")]
    Group,
    /// A key with field number 0 or beyond 2^29-1.
    #[error("invalid field number {0}")]
    InvalidFieldNumber(u64),
    /// A known field arrived with a wire type its declared type cannot have.
    #[error("wire type {found} where {expected} was expected")]
    WrongWireType {
        /// The wire type the schema calls for.
        expected: WireType,
        /// The wire type on the wire.
        found: WireType,
    },
    /// Messages nest deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("messages nested deeper than {limit}")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// A float or double is NaN or infinite, which JSON cannot hold.
    #[error("non-finite floating-point number")]
    NonFiniteNumber,
    /// An `IntOrString` whose type is neither 0 (int) nor 1 (string).
    #[error("IntOrString has invalid type {0}")]
    InvalidIntOrStringType(i64),
    /// A `Time` or `MicroTime` outside the years 0 to 9999 that RFC 3339 can write.
    #[error("timestamp {seconds}s is outside the years 0 to 9999")]
    TimeOutOfRange {
        /// Seconds since the Unix epoch.
        seconds: i64,
    },
    /// A `Quantity` whose string is empty (Go's parser rejects it).
    #[error("empty quantity")]
    EmptyQuantity,
    /// Embedded JSON (`RawExtension`, `FieldsV1`, `JSON`) that does not parse.
    #[error("embedded JSON is invalid: {0}")]
    InvalidEmbeddedJson(String),
}

/// A [`Problem`] and the absolute byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WireError {
    /// Offset from the start of the body.
    pub(super) offset: usize,
    /// What is wrong there.
    pub(super) problem: Problem,
}

/// The largest protobuf field number.
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// Reads the bytes of one protobuf message front to back.
#[derive(Debug, Clone)]
pub(super) struct Reader<'a> {
    /// The message's bytes; nothing outside them is ever read.
    data: &'a [u8],
    /// Next byte to read; `pos <= data.len()`.
    pos: usize,
    /// Absolute offset of `data[0]` in the body, for errors.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`, which starts `base` bytes into the body.
    pub(super) fn new(data: &'a [u8], base: usize) -> Self {
        Reader { data, pos: 0, base }
    }

    /// A reader over nothing: an empty message, for defaults.
    pub(super) fn empty() -> Self {
        Reader::new(&[], 0)
    }

    /// Whether every byte has been read.
    pub(super) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The absolute offset of the next byte.
    pub(super) fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// An error at the current offset.
    pub(super) fn error(&self, problem: Problem) -> WireError {
        WireError {
            offset: self.offset(),
            problem,
        }
    }

    /// Reads a base-128 varint. Like Go's decoder, bits past the 64th are dropped.
    pub(super) fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.data.get(self.pos) else {
                self.pos = start;
                return Err(self.error(Problem::TruncatedVarint));
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.error(Problem::VarintOverflow))
    }

    /// Reads a field key: the field number and the wire type of its value.
    pub(super) fn key(&mut self) -> Result<(u32, WireType), WireError> {
        let start = self.offset();
        let key = self.varint()?;
        let at = |problem| WireError {
            offset: start,
            problem,
        };
        let wire_type = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::LengthDelimited,
            5 => WireType::Fixed32,
            3 | 4 => return Err(at(Problem::Group)),
            other => return Err(at(Problem::InvalidWireType(other as u8))),
        };
        let number = key >> 3;
        match u32::try_from(number) {
            Ok(n) if number != 0 && number <= MAX_FIELD_NUMBER => Ok((n, wire_type)),
            _ => Err(at(Problem::InvalidFieldNumber(number))),
        }
    }

    /// Reads four little-endian bytes.
    pub(super) fn fixed32(&mut self) -> Result<u32, WireError> {
        let bytes = self.take::<4>()?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// Reads eight little-endian bytes.
    pub(super) fn fixed64(&mut self) -> Result<u64, WireError> {
        let bytes = self.take::<8>()?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let slice = self
            .data
            .get(self.pos..)
            .and_then(|rest| rest.get(..N))
            .ok_or_else(|| self.error(Problem::TruncatedFixed { width: N }))?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos += N;
        Ok(out)
    }

    /// Reads a length-delimited value and returns a reader over exactly its bytes.
    pub(super) fn length_delimited(&mut self) -> Result<Reader<'a>, WireError> {
        let length_at = self.pos;
        let length = self.varint()?;
        let remaining = self.data.len() - self.pos;
        let fits = usize::try_from(length).ok().filter(|&n| n <= remaining);
        let Some(n) = fits else {
            self.pos = length_at;
            return Err(self.error(Problem::LengthPastEnd { length, remaining }));
        };
        let start = self.pos;
        self.pos += n;
        Ok(Reader::new(&self.data[start..start + n], self.base + start))
    }

    /// The bytes not yet read.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// Skips a value of an unknown field.
    pub(super) fn skip(&mut self, wire_type: WireType) -> Result<(), WireError> {
        match wire_type {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.fixed64().map(drop),
            WireType::LengthDelimited => self.length_delimited().map(drop),
            WireType::Fixed32 => self.fixed32().map(drop),
        }
    }

    /// Fails unless `found` is `expected`, pointing at the key just read.
    pub(super) fn expect(
        &self,
        key_offset: usize,
        expected: WireType,
        found: WireType,
    ) -> Result<(), WireError> {
        if expected == found {
            Ok(())
        } else {
            Err(WireError {
                offset: key_offset,
                problem: Problem::WrongWireType { expected, found },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> Reader<'_> {
        Reader::new(bytes, 0)
    }

    #[test]
    fn varints_decode_across_their_whole_range() {
        let cases: &[(&[u8], u64)] = &[
            // One byte.
            (&[0x00], 0),
            (&[0x7f], 127),
            // Continuation bit.
            (&[0x80, 0x01], 128),
            (&[0xac, 0x02], 300),
            // -1 as int64: ten bytes, the last carrying the top bit.
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                u64::MAX,
            ),
            // Bits past the 64th are dropped, as Go does.
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                u64::MAX,
            ),
        ];
        for (bytes, want) in cases {
            let mut r = reader(bytes);
            assert_eq!(r.varint(), Ok(*want), "{bytes:02x?}");
            assert!(r.is_empty());
        }
    }

    #[test]
    fn truncated_varint_is_an_error_at_its_start() {
        let mut r = Reader::new(&[0x08, 0x80, 0x80], 4);
        r.varint().unwrap();
        let err = r.varint().unwrap_err();
        assert_eq!(err.problem, Problem::TruncatedVarint);
        assert_eq!(err.offset, 5);
    }

    #[test]
    fn varint_longer_than_ten_bytes_overflows() {
        let mut r = reader(&[0x80; 11]);
        assert_eq!(r.varint().unwrap_err().problem, Problem::VarintOverflow);
    }

    #[test]
    fn keys_split_number_and_wire_type() {
        type Want = Result<(u32, WireType), Problem>;
        let cases: &[(&[u8], Want)] = &[
            (&[0x08], Ok((1, WireType::Varint))),
            (&[0x12], Ok((2, WireType::LengthDelimited))),
            (&[0x19], Ok((3, WireType::Fixed64))),
            (&[0x25], Ok((4, WireType::Fixed32))),
            // Field 2^29-1, the largest.
            (
                &[0xf8, 0xff, 0xff, 0xff, 0x0f],
                Ok((536_870_911, WireType::Varint)),
            ),
            // Field 2^29.
            (
                &[0x80, 0x80, 0x80, 0x80, 0x10],
                Err(Problem::InvalidFieldNumber(1 << 29)),
            ),
            // Field 0.
            (&[0x02], Err(Problem::InvalidFieldNumber(0))),
            // Start and end group.
            (&[0x0b], Err(Problem::Group)),
            (&[0x0c], Err(Problem::Group)),
            // Wire types 6 and 7.
            (&[0x0e], Err(Problem::InvalidWireType(6))),
            (&[0x0f], Err(Problem::InvalidWireType(7))),
        ];
        for (bytes, want) in cases {
            let got = reader(bytes).key().map_err(|e| e.problem);
            assert_eq!(&got, want, "{bytes:02x?}");
        }
    }

    #[test]
    fn fixed_width_values_are_little_endian_and_bounded() {
        let mut r = reader(&[1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(r.fixed32(), Ok(1));
        assert_eq!(r.fixed64(), Ok(2));
        assert_eq!(
            r.fixed32().unwrap_err(),
            WireError {
                offset: 12,
                problem: Problem::TruncatedFixed { width: 4 }
            }
        );
        assert_eq!(
            r.fixed64().unwrap_err().problem,
            Problem::TruncatedFixed { width: 8 }
        );
    }

    #[test]
    fn length_delimited_values_stay_inside_their_message() {
        let mut r = Reader::new(&[0x02, b'h', b'i', 0x05, b'x'], 10);
        let mut inner = r.length_delimited().unwrap();
        assert_eq!(inner.offset(), 11);
        assert_eq!(inner.rest(), b"hi");
        assert_eq!(inner.fixed32().unwrap_err().offset, 11);
        let err = r.length_delimited().unwrap_err();
        assert_eq!(
            err,
            WireError {
                offset: 13,
                problem: Problem::LengthPastEnd {
                    length: 5,
                    remaining: 1
                }
            }
        );
    }

    #[test]
    fn huge_length_is_rejected_without_allocating() {
        let mut r = reader(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(matches!(
            r.length_delimited().unwrap_err().problem,
            Problem::LengthPastEnd {
                length: u64::MAX,
                ..
            }
        ));
    }

    #[test]
    fn skip_moves_past_each_wire_type() {
        let bytes = [0x96, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0xaa, 1, 2, 3, 4];
        let mut r = reader(&bytes);
        r.skip(WireType::Varint).unwrap();
        r.skip(WireType::Fixed64).unwrap();
        r.skip(WireType::LengthDelimited).unwrap();
        r.skip(WireType::Fixed32).unwrap();
        assert!(r.is_empty());
        assert_eq!(
            r.skip(WireType::Varint).unwrap_err().problem,
            Problem::TruncatedVarint
        );
    }
}
