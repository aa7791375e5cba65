//! Exact conversion of JSON number text into the scaled integers behind Arrow's `Decimal128` and
//! `Int64` columns. The text is never routed through `f64`: `0.1` becomes exactly `100_000_000`
//! at scale 9, and a number that does not fit the column is refused rather than rounded.

/// Why a number cannot be stored in `DECIMAL(precision, scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inexact {
    /// More fractional digits than the scale keeps, after dropping trailing zeros.
    Fraction,
    /// More integer digits than `precision - scale`.
    Magnitude,
    /// The text is not a JSON number.
    NotANumber,
}

/// Exponents beyond this are clamped while parsing. Any number that needs one is refused anyway
/// (the widest column has 38 digits), and clamping keeps the digit arithmetic in `i64`.
const EXPONENT_LIMIT: i64 = 1_000_000;

/// Parses JSON number text (`-12.50e3`) as an integer scaled by `10^scale`, exactly, refusing
/// values that need more than `scale` fractional or `precision - scale` integer digits.
/// `precision` must be at most 38, the most digits an `i128` always holds.
pub(super) fn scaled(text: &str, precision: u32, scale: u32) -> Result<i128, Inexact> {
    let number = Number::split(text).ok_or(Inexact::NotANumber)?;
    let digits = || number.integer.iter().chain(number.fraction);
    let total = number.integer.len() + number.fraction.len();

    // The value is D × 10^exponent, where D runs from the first to the last non-zero digit.
    let Some(first) = digits().position(|&d| d != b'0') else {
        return Ok(0);
    };
    let trailing_zeros = digits().rev().take_while(|&&d| d == b'0').count();
    let significant = total - first - trailing_zeros;
    let exponent = number.exponent - number.fraction.len() as i64 + trailing_zeros as i64;

    let shift = exponent + i64::from(scale);
    if shift < 0 {
        return Err(Inexact::Fraction);
    }
    if significant as i64 + exponent > i64::from(precision - scale) {
        return Err(Inexact::Magnitude);
    }

    // At most `precision` digits now, so neither the digits nor the shift can overflow.
    let mantissa = digits()
        .skip(first)
        .take(significant)
        .fold(0i128, |acc, &d| acc * 10 + i128::from(d - b'0'));
    let value = mantissa * 10i128.pow(shift as u32);
    Ok(if number.negative { -value } else { value })
}

/// The parts of JSON number text, borrowed from it.
struct Number<'a> {
    negative: bool,
    integer: &'a [u8],
    fraction: &'a [u8],
    exponent: i64,
}

impl<'a> Number<'a> {
    /// Splits `-?digits(.digits)?([eE][+-]?digits)?`; anything else is `None`.
    fn split(text: &'a str) -> Option<Self> {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes {
            [b'-', rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        let (integer, mut rest) = leading_digits(rest)?;

        let mut fraction: &[u8] = &[];
        if let [b'.', tail @ ..] = rest {
            (fraction, rest) = leading_digits(tail)?;
        }

        let mut exponent = 0i64;
        if let [b'e' | b'E', tail @ ..] = rest {
            let (negative_exponent, tail) = match tail {
                [b'-', tail @ ..] => (true, tail),
                [b'+', tail @ ..] => (false, tail),
                tail => (false, tail),
            };
            let (digits, tail) = leading_digits(tail)?;
            exponent = digits.iter().fold(0i64, |acc, &d| {
                (acc * 10 + i64::from(d - b'0')).min(EXPONENT_LIMIT)
            });
            if negative_exponent {
                exponent = -exponent;
            }
            rest = tail;
        }

        rest.is_empty().then_some(Self {
            negative,
            integer,
            fraction,
            exponent,
        })
    }
}

/// Splits off a non-empty run of ASCII digits.
fn leading_digits(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    (n > 0).then(|| bytes.split_at(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Result<i128, Inexact> {
        scaled(text, 38, 9)
    }

    #[test]
    fn decimals_are_scaled_exactly() {
        assert_eq!(decimal("0.1"), Ok(100_000_000));
        assert_eq!(decimal("299.9"), Ok(299_900_000_000));
        assert_eq!(decimal("1e-9"), Ok(1));
        assert_eq!(decimal("-0.5"), Ok(-500_000_000));
        assert_eq!(decimal("1.5E+3"), Ok(1_500_000_000_000));
        assert_eq!(decimal("-0.0"), Ok(0));
        assert_eq!(decimal("0"), Ok(0));
        assert_eq!(decimal("0e99999999999999999999"), Ok(0));
        assert_eq!(
            decimal("12345678901234567890.123456789"),
            Ok(12_345_678_901_234_567_890_123_456_789)
        );
        assert_eq!(
            decimal("0.1000000000000000000000000000000000000000"),
            Ok(100_000_000)
        );
        assert_eq!(decimal("123456789e-9"), Ok(123_456_789));
    }

    #[test]
    fn decimals_at_the_edges_of_38_9() {
        let widest = "99999999999999999999999999999.999999999";
        assert_eq!(decimal(widest), Ok(10i128.pow(38) - 1));
        assert_eq!(
            decimal("-99999999999999999999999999999"),
            Ok(-(10i128.pow(38) - 10i128.pow(9)))
        );
        assert_eq!(
            decimal("100000000000000000000000000000"),
            Err(Inexact::Magnitude)
        );
        assert_eq!(decimal("1e29"), Err(Inexact::Magnitude));
        assert_eq!(decimal("1e28"), Ok(10i128.pow(37)));
        assert_eq!(decimal("0.1234567891"), Err(Inexact::Fraction));
        assert_eq!(decimal("1e-10"), Err(Inexact::Fraction));
        assert_eq!(decimal("1e-99999999999999"), Err(Inexact::Fraction));
        assert_eq!(decimal("1e99999999999999"), Err(Inexact::Magnitude));
    }

    #[test]
    fn integers_accept_integral_numbers_only() {
        let integer = |text| scaled(text, 19, 0);
        assert_eq!(integer("5"), Ok(5));
        assert_eq!(integer("5.0"), Ok(5));
        assert_eq!(integer("-12e2"), Ok(-1200));
        assert_eq!(integer("5.5"), Err(Inexact::Fraction));
        assert_eq!(integer("1e20"), Err(Inexact::Magnitude));
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        for text in [
            "", "-", "1.", ".5", "1e", "1e+", "abc", "\"1\"", "1 ", "0x10",
        ] {
            assert_eq!(decimal(text), Err(Inexact::NotANumber), "{text:?}");
        }
    }
}
