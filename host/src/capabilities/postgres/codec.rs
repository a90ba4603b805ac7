//! Wire formats tokio-postgres does not provide: SQL NULL of any type, the raw bytes of any
//! type, `json`/`jsonb` as text, `interval`, `numeric` as exact decimal text, and ranges.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use super::wit::RangeBoundKind;

type BoxError = Box<dyn StdError + Sync + Send>;

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
pub(super) struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The raw bytes of a value of a type this host does not convert.
pub(super) struct RawValue(pub(super) Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `json`/`jsonb` as its UTF-8 text, without a parse and re-serialization.
pub(super) struct RawJson(pub(super) Vec<u8>);

impl<'a> FromSql<'a> for RawJson {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        if *ty == Type::JSONB {
            match raw.split_first() {
                Some((1, json)) => Ok(RawJson(json.to_vec())),
                _ => Err("unsupported jsonb wire format version".into()),
            }
        } else {
            Ok(RawJson(raw.to_vec()))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

/// `interval` on the wire: microseconds, days, months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PgInterval {
    pub(super) micros: i64,
    pub(super) days: i32,
    pub(super) months: i32,
}

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw: &[u8; 16] = raw.try_into().map_err(|_| "interval is not 16 bytes")?;
        Ok(PgInterval {
            micros: i64::from_be_bytes(raw[0..8].try_into()?),
            days: i32::from_be_bytes(raw[8..12].try_into()?),
            months: i32::from_be_bytes(raw[12..16].try_into()?),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.micros);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

/// `numeric` as exact decimal text (any precision, `NaN`, `Infinity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Numeric(pub(super) String);

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

impl Numeric {
    /// Validates decimal text: `[+-]digits[.digits]`, `NaN`, `[+-]Infinity`.
    pub(super) fn parse(text: &str) -> Result<Numeric, String> {
        encode_numeric(text, &mut BytesMut::new())?;
        Ok(Numeric(text.trim().to_string()))
    }
}

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Numeric(decode_numeric(raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl ToSql for Numeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_numeric(&self.0, out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

fn decode_numeric(raw: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<u16, String> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".to_string())
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i64;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<u16>, _>>()?;
    match sign {
        NUMERIC_NAN => return Ok("NaN".to_string()),
        NUMERIC_PINF => return Ok("Infinity".to_string()),
        NUMERIC_NINF => return Ok("-Infinity".to_string()),
        NUMERIC_POS | NUMERIC_NEG => {}
        other => return Err(format!("invalid numeric sign {other:#x}")),
    }
    // digits[i] is the base-10000 digit of weight `weight - i`.
    let digit = |exponent: i64| -> u16 {
        let index = weight - exponent;
        if index >= 0 && (index as usize) < digits.len() {
            digits[index as usize]
        } else {
            0
        }
    };
    let mut text = String::new();
    if sign == NUMERIC_NEG && digits.iter().any(|&d| d != 0) {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(weight).to_string());
        for exponent in (0..weight).rev() {
            text.push_str(&format!("{:04}", digit(exponent)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut exponent = -1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(exponent)));
            exponent -= 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

fn encode_numeric(text: &str, out: &mut BytesMut) -> Result<(), String> {
    let header = |out: &mut BytesMut, ndigits: u16, weight: i16, sign: u16, dscale: u16| {
        out.put_u16(ndigits);
        out.put_i16(weight);
        out.put_u16(sign);
        out.put_u16(dscale);
    };
    let trimmed = text.trim();
    match trimmed.to_ascii_lowercase().as_str() {
        "nan" => {
            header(out, 0, 0, NUMERIC_NAN, 0);
            return Ok(());
        }
        "infinity" | "+infinity" | "inf" | "+inf" => {
            header(out, 0, 0, NUMERIC_PINF, 0);
            return Ok(());
        }
        "-infinity" | "-inf" => {
            header(out, 0, 0, NUMERIC_NINF, 0);
            return Ok(());
        }
        _ => {}
    }
    let invalid = || format!("invalid decimal {text:?}");
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let dscale = u16::try_from(frac_part.len())
        .ok()
        .filter(|&s| s <= 0x3FFF)
        .ok_or_else(invalid)?;
    let int_part = int_part.trim_start_matches('0');
    let int_padded = format!("{}{int_part}", "0".repeat((4 - int_part.len() % 4) % 4));
    let frac_padded = format!("{frac_part}{}", "0".repeat((4 - frac_part.len() % 4) % 4));
    let group = |chunk: &[u8]| -> u16 {
        chunk
            .iter()
            .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'))
    };
    let int_groups: Vec<u16> = int_padded.as_bytes().chunks(4).map(group).collect();
    let mut weight = int_groups.len() as i64 - 1;
    let mut groups: Vec<u16> = int_groups;
    groups.extend(frac_padded.as_bytes().chunks(4).map(group));
    let leading = groups.iter().take_while(|&&d| d == 0).count();
    groups.drain(..leading);
    weight -= leading as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let sign = if groups.is_empty() {
        weight = 0;
        NUMERIC_POS
    } else if negative {
        NUMERIC_NEG
    } else {
        NUMERIC_POS
    };
    let weight = i16::try_from(weight).map_err(|_| invalid())?;
    let ndigits = u16::try_from(groups.len()).map_err(|_| invalid())?;
    header(out, ndigits, weight, sign, dscale);
    for d in groups {
        out.put_u16(d);
    }
    Ok(())
}

/// A range (`int4range`, `int8range`, `numrange`); `None` is an unbounded
/// side. An empty range reads as `(None, None)` like Spin's.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct PgRange<T> {
    pub(super) lower: Option<(T, RangeBoundKind)>,
    pub(super) upper: Option<(T, RangeBoundKind)>,
}

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;

fn range_element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let (&flags, mut rest) = raw.split_first().ok_or("empty range value")?;
        if flags & RANGE_EMPTY != 0 {
            return Ok(PgRange {
                lower: None,
                upper: None,
            });
        }
        let mut bound =
            |present: bool, inclusive: bool| -> Result<Option<(T, RangeBoundKind)>, BoxError> {
                if !present {
                    return Ok(None);
                }
                let (len, tail) = rest.split_at_checked(4).ok_or("truncated range bound")?;
                let len = i32::from_be_bytes(len.try_into()?) as usize;
                let (value, tail) = tail.split_at_checked(len).ok_or("truncated range bound")?;
                rest = tail;
                let kind = if inclusive {
                    RangeBoundKind::Inclusive
                } else {
                    RangeBoundKind::Exclusive
                };
                Ok(Some((T::from_sql(element, value)?, kind)))
            };
        let lower = bound(flags & RANGE_LB_INF == 0, flags & RANGE_LB_INC != 0)?;
        let upper = bound(flags & RANGE_UB_INF == 0, flags & RANGE_UB_INC != 0)?;
        Ok(PgRange { lower, upper })
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(|e| T::accepts(e))
    }
}

impl<T: ToSql> ToSql for PgRange<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let mut flags = 0;
        match &self.lower {
            None => flags |= RANGE_LB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_LB_INC,
            Some(_) => {}
        }
        match &self.upper {
            None => flags |= RANGE_UB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_UB_INC,
            Some(_) => {}
        }
        out.put_u8(flags);
        for (value, _) in [&self.lower, &self.upper].into_iter().flatten() {
            let at = out.len();
            out.put_i32(0);
            if let IsNull::Yes = value.to_sql(element, out)? {
                return Err("a range bound cannot be NULL".into());
            }
            let len = i32::try_from(out.len() - at - 4)?;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(|e| T::accepts(e))
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_round_trip(text: &str) -> String {
        let mut buf = BytesMut::new();
        encode_numeric(text, &mut buf).expect("valid decimal");
        decode_numeric(&buf).expect("decodable numeric")
    }

    #[test]
    fn numeric_text_round_trips_through_the_wire_format() {
        for (input, expected) in [
            ("0", "0"),
            ("1", "1"),
            ("-1.5", "-1.5"),
            ("+7", "7"),
            ("10000", "10000"),
            ("123456789.987654321", "123456789.987654321"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            ("00012.3400", "12.3400"),
            ("-0.000", "0.000"),
            (".5", "0.5"),
            (
                "99999999999999999999999999999999.1",
                "99999999999999999999999999999999.1",
            ),
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(numeric_round_trip(input), expected, "{input}");
        }
    }

    #[test]
    fn numeric_rejects_text_that_is_not_a_plain_decimal() {
        for input in ["", ".", "1e5", "abc", "1.2.3", "--1", "1,5", " - 1"] {
            assert!(
                Numeric::parse(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn numeric_decodes_postgres_wire_bytes() {
        // 12345.678 as Postgres sends it: 3 digits, weight 1, dscale 3.
        let raw = [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C];
        assert_eq!(decode_numeric(&raw).unwrap(), "12345.678");
    }

    #[test]
    fn interval_wire_format_round_trips() {
        let interval = PgInterval {
            micros: 3_000_001,
            days: -2,
            months: 14,
        };
        let mut buf = BytesMut::new();
        interval.to_sql(&Type::INTERVAL, &mut buf).unwrap();
        assert_eq!(
            PgInterval::from_sql(&Type::INTERVAL, &buf).unwrap(),
            interval
        );
    }

    #[test]
    fn int_range_wire_format_round_trips() {
        let range = PgRange {
            lower: Some((1i32, RangeBoundKind::Inclusive)),
            upper: None,
        };
        let mut buf = BytesMut::new();
        range.to_sql(&Type::INT4_RANGE, &mut buf).unwrap();
        assert_eq!(
            PgRange::<i32>::from_sql(&Type::INT4_RANGE, &buf).unwrap(),
            range
        );
    }
}
