//! Values across the boundary: the guest's WIT `parameter-value`s as tokio-postgres parameters,
//! and column types and values as WIT `db-data-type`s and `db-value`s.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql, Type};

use super::codec::{Null, Numeric, PgInterval, PgRange, RawJson, RawValue};
use super::error::error_chain;
use super::spin_compat::SpinCompat;
use super::wit::{self, DbDataType, DbValue, Error, ParameterValue, RangeBoundKind};

pub(super) type SqlParam = Box<dyn ToSql + Sync + Send>;

pub(super) fn param_refs(params: &[SqlParam]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub(super) fn to_sql_params(params: &[ParameterValue]) -> Result<Vec<SqlParam>, Error> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            to_sql_param(p).map_err(|e| Error::BadParameter(format!("parameter ${}: {e}", i + 1)))
        })
        .collect()
}

fn to_sql_param(value: &ParameterValue) -> Result<SqlParam, String> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date(v) => Box::new(date_from_wit(*v)?),
        ParameterValue::Time(v) => Box::new(time_from_wit(*v)?),
        ParameterValue::Datetime(v) => Box::new(datetime_from_wit(*v)?),
        ParameterValue::Timestamp(secs) => Box::new(
            DateTime::<Utc>::from_timestamp(*secs, 0)
                .ok_or_else(|| format!("timestamp {secs} is out of range"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).map_err(|e| format!("invalid uuid {v:?}: {e}"))?)
        }
        ParameterValue::Jsonb(bytes) => Box::new(
            serde_json::from_slice::<serde_json::Value>(bytes)
                .map_err(|e| format!("invalid JSON: {e}"))?,
        ),
        ParameterValue::Decimal(v) => Box::new(Numeric::parse(v)?),
        ParameterValue::RangeInt32((lower, upper)) => Box::new(PgRange {
            lower: *lower,
            upper: *upper,
        }),
        ParameterValue::RangeInt64((lower, upper)) => Box::new(PgRange {
            lower: *lower,
            upper: *upper,
        }),
        ParameterValue::RangeDecimal((lower, upper)) => {
            let bound = |b: &Option<(String, RangeBoundKind)>| -> Result<_, String> {
                b.as_ref()
                    .map(|(v, k)| Ok((Numeric::parse(v)?, *k)))
                    .transpose()
            };
            Box::new(PgRange {
                lower: bound(lower)?,
                upper: bound(upper)?,
            })
        }
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(Numeric::parse).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ParameterValue::Interval(i) => Box::new(PgInterval {
            micros: i.micros,
            days: i.days,
            months: i.months,
        }),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date_from_wit((year, month, day): (i32, u8, u8)) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(year, month.into(), day.into())
        .ok_or_else(|| format!("invalid date {year}-{month}-{day}"))
}

fn time_from_wit((hour, minute, second, nanos): (u8, u8, u8, u32)) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)
        .ok_or_else(|| format!("invalid time {hour}:{minute}:{second}.{nanos:09}"))
}

fn datetime_from_wit(
    (year, month, day, hour, minute, second, nanos): (i32, u8, u8, u8, u8, u8, u32),
) -> Result<NaiveDateTime, String> {
    Ok(NaiveDateTime::new(
        date_from_wit((year, month, day))?,
        time_from_wit((hour, minute, second, nanos))?,
    ))
}

/// How a column's Postgres type crosses the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnKind {
    Boolean,
    Char,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Text,
    Binary,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Uuid,
    Json,
    Numeric,
    RangeInt32,
    RangeInt64,
    RangeNumeric,
    ArrayInt32,
    ArrayInt64,
    ArrayNumeric,
    ArrayText,
    Interval,
    Unsupported,
}

/// Whether a decoder reads a Postgres type (`FromSql::accepts`).
type Accepts = fn(&Type) -> bool;

fn column_kind(ty: &Type) -> ColumnKind {
    use ColumnKind as K;
    /// In order: the first decoder that accepts a type decides (`name` and `bpchar` are text).
    const DECODERS: &[(Accepts, ColumnKind)] = &[
        (<bool as FromSql>::accepts, K::Boolean),
        (<i8 as FromSql>::accepts, K::Char),
        (<i16 as FromSql>::accepts, K::Int16),
        (<i32 as FromSql>::accepts, K::Int32),
        (<i64 as FromSql>::accepts, K::Int64),
        (<f32 as FromSql>::accepts, K::Float32),
        (<f64 as FromSql>::accepts, K::Float64),
        (<String as FromSql>::accepts, K::Text),
        (<Vec<u8> as FromSql>::accepts, K::Binary),
        (<NaiveDate as FromSql>::accepts, K::Date),
        (<NaiveTime as FromSql>::accepts, K::Time),
        (<NaiveDateTime as FromSql>::accepts, K::Timestamp),
        (<DateTime<Utc> as FromSql>::accepts, K::Timestamptz),
        (<uuid::Uuid as FromSql>::accepts, K::Uuid),
        (<RawJson as FromSql>::accepts, K::Json),
        (<Numeric as FromSql>::accepts, K::Numeric),
        (<PgRange<i32> as FromSql>::accepts, K::RangeInt32),
        (<PgRange<i64> as FromSql>::accepts, K::RangeInt64),
        (<PgRange<Numeric> as FromSql>::accepts, K::RangeNumeric),
        (<Vec<Option<i32>> as FromSql>::accepts, K::ArrayInt32),
        (<Vec<Option<i64>> as FromSql>::accepts, K::ArrayInt64),
        (<Vec<Option<Numeric>> as FromSql>::accepts, K::ArrayNumeric),
        (<Vec<Option<String>> as FromSql>::accepts, K::ArrayText),
        (<PgInterval as FromSql>::accepts, K::Interval),
    ];
    DECODERS
        .iter()
        .find(|(accepts, _)| accepts(ty))
        .map_or(K::Unsupported, |&(_, kind)| kind)
}

pub(super) fn data_type(ty: &Type) -> DbDataType {
    use ColumnKind as K;
    match column_kind(ty) {
        K::Boolean => DbDataType::Boolean,
        K::Char => DbDataType::Int8,
        K::Int16 => DbDataType::Int16,
        K::Int32 => DbDataType::Int32,
        K::Int64 => DbDataType::Int64,
        K::Float32 => DbDataType::Floating32,
        K::Float64 => DbDataType::Floating64,
        K::Text => DbDataType::Str,
        K::Binary => DbDataType::Binary,
        K::Date => DbDataType::Date,
        K::Time => DbDataType::Time,
        K::Timestamp | K::Timestamptz => DbDataType::Datetime,
        K::Uuid => DbDataType::Uuid,
        K::Json => DbDataType::Jsonb,
        K::Numeric => DbDataType::Decimal,
        K::RangeInt32 => DbDataType::RangeInt32,
        K::RangeInt64 => DbDataType::RangeInt64,
        K::RangeNumeric => DbDataType::RangeDecimal,
        K::ArrayInt32 => DbDataType::ArrayInt32,
        K::ArrayInt64 => DbDataType::ArrayInt64,
        K::ArrayNumeric => DbDataType::ArrayDecimal,
        K::ArrayText => DbDataType::ArrayStr,
        K::Interval => DbDataType::Interval,
        K::Unsupported => DbDataType::Other(ty.name().to_string()),
    }
}

pub(super) fn convert_row(row: &Row, compat: Option<SpinCompat>) -> Result<Vec<DbValue>, Error> {
    (0..row.len())
        .map(|i| {
            let value = match compat {
                Some(compat) if !compat.decodes(row.columns()[i].type_()) => row
                    .try_get::<_, Option<RawValue>>(i)
                    .map(|raw| raw.map_or(DbValue::DbNull, |raw| DbValue::Unsupported(raw.0))),
                _ => convert_value(row, i),
            };
            value.map_err(|e| {
                Error::ValueConversionFailed(format!(
                    "column `{}` ({}): {}",
                    row.columns()[i].name(),
                    row.columns()[i].type_(),
                    error_chain(&e)
                ))
            })
        })
        .collect()
}

fn convert_value(row: &Row, i: usize) -> Result<DbValue, tokio_postgres::Error> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a Row,
        i: usize,
        to_wit: impl FnOnce(T) -> DbValue,
    ) -> Result<DbValue, tokio_postgres::Error> {
        Ok(row
            .try_get::<_, Option<T>>(i)?
            .map_or(DbValue::DbNull, to_wit))
    }
    use ColumnKind as K;
    match column_kind(row.columns()[i].type_()) {
        K::Boolean => get(row, i, DbValue::Boolean),
        K::Char => get(row, i, DbValue::Int8),
        K::Int16 => get(row, i, DbValue::Int16),
        K::Int32 => get(row, i, DbValue::Int32),
        K::Int64 => get(row, i, DbValue::Int64),
        K::Float32 => get(row, i, DbValue::Floating32),
        K::Float64 => get(row, i, DbValue::Floating64),
        K::Text => get(row, i, DbValue::Str),
        K::Binary => get(row, i, DbValue::Binary),
        K::Date => get(row, i, |d: NaiveDate| DbValue::Date(date_to_wit(d))),
        K::Time => get(row, i, |t: NaiveTime| DbValue::Time(time_to_wit(t))),
        K::Timestamp => get(row, i, |dt: NaiveDateTime| {
            DbValue::Datetime(datetime_to_wit(dt))
        }),
        K::Timestamptz => get(row, i, |dt: DateTime<Utc>| {
            DbValue::Datetime(datetime_to_wit(dt.naive_utc()))
        }),
        K::Uuid => get(row, i, |u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        K::Json => get(row, i, |j: RawJson| DbValue::Jsonb(j.0)),
        K::Numeric => get(row, i, |n: Numeric| DbValue::Decimal(n.0)),
        K::RangeInt32 => get(row, i, |r: PgRange<i32>| {
            DbValue::RangeInt32((r.lower, r.upper))
        }),
        K::RangeInt64 => get(row, i, |r: PgRange<i64>| {
            DbValue::RangeInt64((r.lower, r.upper))
        }),
        K::RangeNumeric => get(row, i, |r: PgRange<Numeric>| {
            DbValue::RangeDecimal((
                r.lower.map(|(n, k)| (n.0, k)),
                r.upper.map(|(n, k)| (n.0, k)),
            ))
        }),
        K::ArrayInt32 => get(row, i, DbValue::ArrayInt32),
        K::ArrayInt64 => get(row, i, DbValue::ArrayInt64),
        K::ArrayNumeric => get(row, i, |v: Vec<Option<Numeric>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|n| n.map(|n| n.0)).collect())
        }),
        K::ArrayText => get(row, i, DbValue::ArrayStr),
        K::Interval => get(row, i, |v: PgInterval| {
            DbValue::Interval(wit::Interval {
                micros: v.micros,
                days: v.days,
                months: v.months,
            })
        }),
        K::Unsupported => get(row, i, |raw: RawValue| DbValue::Unsupported(raw.0)),
    }
}

fn date_to_wit(d: NaiveDate) -> (i32, u8, u8) {
    (d.year(), d.month() as u8, d.day() as u8)
}

fn time_to_wit(t: NaiveTime) -> (u8, u8, u8, u32) {
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

fn datetime_to_wit(dt: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (year, month, day) = date_to_wit(dt.date());
    let (hour, minute, second, nanos) = time_to_wit(dt.time());
    (year, month, day, hour, minute, second, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::postgres::test_db::{connect, rows_of};

    #[test]
    fn column_types_map_to_wit_data_types() {
        for (ty, expected) in [
            (Type::BOOL, DbDataType::Boolean),
            (Type::INT2, DbDataType::Int16),
            (Type::INT4, DbDataType::Int32),
            (Type::INT8, DbDataType::Int64),
            (Type::FLOAT4, DbDataType::Floating32),
            (Type::FLOAT8, DbDataType::Floating64),
            (Type::TEXT, DbDataType::Str),
            (Type::VARCHAR, DbDataType::Str),
            (Type::NAME, DbDataType::Str),
            (Type::BPCHAR, DbDataType::Str),
            (Type::BYTEA, DbDataType::Binary),
            (Type::UUID, DbDataType::Uuid),
            (Type::JSON, DbDataType::Jsonb),
            (Type::JSONB, DbDataType::Jsonb),
            (Type::DATE, DbDataType::Date),
            (Type::TIME, DbDataType::Time),
            (Type::TIMESTAMP, DbDataType::Datetime),
            (Type::TIMESTAMPTZ, DbDataType::Datetime),
            (Type::NUMERIC, DbDataType::Decimal),
            (Type::INT4_ARRAY, DbDataType::ArrayInt32),
            (Type::INT8_ARRAY, DbDataType::ArrayInt64),
            (Type::TEXT_ARRAY, DbDataType::ArrayStr),
            (Type::NUMERIC_ARRAY, DbDataType::ArrayDecimal),
            (Type::INTERVAL, DbDataType::Interval),
            (Type::INT4_RANGE, DbDataType::RangeInt32),
            (Type::INET, DbDataType::Other("inet".to_string())),
        ] {
            assert_eq!(data_type(&ty), expected, "{ty}");
        }
    }

    #[test]
    fn malformed_parameters_are_bad_parameter_errors_naming_the_position() {
        for param in [
            ParameterValue::Uuid("not-a-uuid".into()),
            ParameterValue::Date((2023, 2, 30)),
            ParameterValue::Time((25, 0, 0, 0)),
            ParameterValue::Jsonb(b"{".to_vec()),
            ParameterValue::Decimal("1e5".into()),
        ] {
            match to_sql_params(&[ParameterValue::Int32(1), param.clone()]) {
                Err(Error::BadParameter(message)) => {
                    assert!(message.starts_with("parameter $2:"), "{message}")
                }
                _ => panic!("{param:?} should be a bad parameter"),
            }
        }
    }

    #[tokio::test]
    async fn timestamptz_column_is_a_utc_datetime_without_compat() {
        let rows = rows_of("SELECT '2024-05-06 07:08:09.5+02'::timestamptz AS t").await;
        assert_eq!(rows.columns[0].data_type, DbDataType::Datetime);
        assert_eq!(
            rows.rows[0][0],
            DbValue::Datetime((2024, 5, 6, 5, 8, 9, 500_000_000))
        );
    }

    #[tokio::test]
    async fn column_values_convert_to_db_values() {
        let rows = rows_of(
                "SELECT true, 1::int2, 2::int4, 3::int8, 1.5::float4, 2.5::float8, \
                 'x'::text, 'y'::varchar, 'n'::name, 'c'::bpchar, '\\x0102'::bytea, \
                 '0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f'::uuid, '{\"a\": 1}'::json, '{\"b\": 2}'::jsonb, \
                 '2024-02-29'::date, '13:14:15.5'::time, '2024-02-29 13:14:15'::timestamp, \
                 12345.678::numeric, '{1,NULL,3}'::int4[], '{4}'::int8[], '{a,NULL}'::text[], \
                 '{1.5,NULL}'::numeric[], '1 mon 2 days 3.000004 s'::interval, NULL::int4, \
                 '[1,5)'::int4range, '127.0.0.1'::inet",
            )
            .await;
        let expected = vec![
            DbValue::Boolean(true),
            DbValue::Int16(1),
            DbValue::Int32(2),
            DbValue::Int64(3),
            DbValue::Floating32(1.5),
            DbValue::Floating64(2.5),
            DbValue::Str("x".into()),
            DbValue::Str("y".into()),
            DbValue::Str("n".into()),
            DbValue::Str("c".into()),
            DbValue::Binary(vec![1, 2]),
            DbValue::Uuid("0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f".into()),
            DbValue::Jsonb(b"{\"a\": 1}".to_vec()),
            DbValue::Jsonb(b"{\"b\": 2}".to_vec()),
            DbValue::Date((2024, 2, 29)),
            DbValue::Time((13, 14, 15, 500_000_000)),
            DbValue::Datetime((2024, 2, 29, 13, 14, 15, 0)),
            DbValue::Decimal("12345.678".into()),
            DbValue::ArrayInt32(vec![Some(1), None, Some(3)]),
            DbValue::ArrayInt64(vec![Some(4)]),
            DbValue::ArrayStr(vec![Some("a".into()), None]),
            DbValue::ArrayDecimal(vec![Some("1.5".into()), None]),
            DbValue::Interval(wit::Interval {
                micros: 3_000_004,
                days: 2,
                months: 1,
            }),
            DbValue::DbNull,
            DbValue::RangeInt32((
                Some((1, RangeBoundKind::Inclusive)),
                Some((5, RangeBoundKind::Exclusive)),
            )),
            DbValue::Unsupported(vec![2, 32, 0, 4, 127, 0, 0, 1]),
        ];
        assert_eq!(rows.rows.len(), 1);
        for (i, (got, want)) in rows.rows[0].iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "column {i} ({:?})", rows.columns[i]);
        }
        assert_eq!(rows.rows[0].len(), expected.len());
    }

    #[tokio::test]
    async fn parameters_convert_to_their_postgres_types() {
        let mut conn = connect(None).await;
        let rows = conn
            .query(
                "SELECT $1::bool, $2::int2, $3::int4, $4::int8, $5::float8, $6::text, $7::bytea, \
                 $8::uuid, $9::jsonb, $10::date, $11::time, $12::timestamp, $13::timestamptz, \
                 $14::numeric, $15::int4[], $16::text[], $17::interval, $18::int4, $19::int8range",
                &[
                    ParameterValue::Boolean(true),
                    ParameterValue::Int16(-2),
                    ParameterValue::Int32(3),
                    ParameterValue::Int64(4),
                    ParameterValue::Floating64(0.25),
                    ParameterValue::Str("héllo".into()),
                    ParameterValue::Binary(vec![0, 255]),
                    ParameterValue::Uuid("0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f".into()),
                    ParameterValue::Jsonb(br#"{"k":[1,2]}"#.to_vec()),
                    ParameterValue::Date((2000, 1, 2)),
                    ParameterValue::Time((3, 4, 5, 6000)),
                    ParameterValue::Datetime((2000, 1, 2, 3, 4, 5, 0)),
                    ParameterValue::Timestamp(86_400),
                    ParameterValue::Decimal("-98765432109876543210.0123".into()),
                    ParameterValue::ArrayInt32(vec![Some(1), None]),
                    ParameterValue::ArrayStr(vec![Some("a".into())]),
                    ParameterValue::Interval(wit::Interval {
                        micros: 1,
                        days: 2,
                        months: 3,
                    }),
                    ParameterValue::DbNull,
                    ParameterValue::RangeInt64((Some((10, RangeBoundKind::Inclusive)), None)),
                ],
            )
            .await
            .unwrap();
        let row = &rows.rows[0];
        assert_eq!(row[0], DbValue::Boolean(true));
        assert_eq!(row[1], DbValue::Int16(-2));
        assert_eq!(row[2], DbValue::Int32(3));
        assert_eq!(row[3], DbValue::Int64(4));
        assert_eq!(row[4], DbValue::Floating64(0.25));
        assert_eq!(row[5], DbValue::Str("héllo".into()));
        assert_eq!(row[6], DbValue::Binary(vec![0, 255]));
        assert_eq!(
            row[7],
            DbValue::Uuid("0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f".into())
        );
        assert_eq!(row[8], DbValue::Jsonb(br#"{"k": [1, 2]}"#.to_vec()));
        assert_eq!(row[9], DbValue::Date((2000, 1, 2)));
        assert_eq!(row[10], DbValue::Time((3, 4, 5, 6000)));
        assert_eq!(row[11], DbValue::Datetime((2000, 1, 2, 3, 4, 5, 0)));
        assert_eq!(row[12], DbValue::Datetime((1970, 1, 2, 0, 0, 0, 0)));
        assert_eq!(
            row[13],
            DbValue::Decimal("-98765432109876543210.0123".into())
        );
        assert_eq!(row[14], DbValue::ArrayInt32(vec![Some(1), None]));
        assert_eq!(row[15], DbValue::ArrayStr(vec![Some("a".into())]));
        assert_eq!(
            row[16],
            DbValue::Interval(wit::Interval {
                micros: 1,
                days: 2,
                months: 3
            })
        );
        assert_eq!(row[17], DbValue::DbNull);
        assert_eq!(
            row[18],
            DbValue::RangeInt64((Some((10, RangeBoundKind::Inclusive)), None))
        );
    }
}
