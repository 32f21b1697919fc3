using System.Globalization;
using System.Text.Json.Serialization;

namespace MlRounding.Cli;

/// <summary>The order of day and month in dates written with slashes or dots (1/2/2000).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DateOrder>))]
internal enum DateOrder
{
    /// <summary>ISO dates (yyyy-MM-dd) and dates with a month name: no order to choose.</summary>
    None,

    /// <summary>Month first: 1/2/2000 is January 2 (United States).</summary>
    MonthFirst,

    /// <summary>Day first: 1/2/2000 is 1 February (most of Europe).</summary>
    DayFirst,
}

/// <summary>
/// Numbers and dates read as a spreadsheet would: a decimal point or (in files with a decimal comma) a decimal comma,
/// thousands separators ("1,234.5", "1.234,5"), a currency sign ($ € £ ¥) and a percent sign (12% is 0.12); dates in
/// ISO form, with a month name (Jan 1 2000, 1 January 2000) or with slashes or dots in a stated day/month order, each
/// optionally with a time. The plain forms are tried first, so a table of plain numbers reads at Sep's speed.
/// </summary>
internal static class CellParsing
{
    private static readonly string[] IsoDates = { "yyyy-MM-dd", "yyyy/MM/dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fffZ", "yyyy/MM/dd HH:mm:ss", "yyyy-MM" };
    private static readonly string[] NamedDates = { "MMM d yyyy", "MMM d, yyyy", "MMMM d yyyy", "MMMM d, yyyy", "d MMM yyyy", "d MMMM yyyy", "MMM d yyyy HH:mm", "MMM d, yyyy HH:mm", "ddd, d MMM yyyy", "ddd MMM d yyyy" };
    private static readonly string[] MonthFirstDates = WithTimes("M/d/yyyy", "M/d/yy", "M-d-yyyy");
    private static readonly string[] DayFirstDates = WithTimes("d/M/yyyy", "d/M/yy", "d.M.yyyy", "d-M-yyyy");

    private static string[] WithTimes(params string[] dates) =>
        dates.SelectMany(d => new[] { d, d + " H:mm", d + " H:mm:ss", d + " h:mm tt", d + " h:mm:ss tt" }).ToArray();

    /// <summary>A number cell (true and false count as 1 and 0).</summary>
    /// <param name="cell">The trimmed cell.</param>
    /// <param name="decimalComma">Whether the file writes decimals with a comma (then a dot groups thousands).</param>
    /// <param name="value">The number.</param>
    /// <returns>Whether the cell is a number.</returns>
    public static bool TryNumber(string cell, bool decimalComma, out float value) => TryNumber(cell.AsSpan(), decimalComma, out value);

    /// <summary>A number cell read from its characters (see <see cref="TryNumber(string, bool, out float)"/>).</summary>
    /// <param name="cell">The trimmed cell.</param>
    /// <param name="decimalComma">Whether the file writes decimals with a comma (then a dot groups thousands).</param>
    /// <param name="value">The number.</param>
    /// <returns>Whether the cell is a number.</returns>
    public static bool TryNumber(ReadOnlySpan<char> cell, bool decimalComma, out float value)
    {
        if (TryWholeNumber(cell, out value))
        {
            return true; // the most common cell of all (counts, codes, pixels), without a float parser
        }

        if (!decimalComma && float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return true; // the common case, first
        }

        if (cell.Equals("true", StringComparison.OrdinalIgnoreCase) || cell.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            value = cell.Length == 4 ? 1 : 0;
            return true;
        }

        return TrySpreadsheetNumber(cell, decimalComma, out value);
    }

    /// <summary>A number cell, or NaN for a missing one (<see cref="TableSchema.IsMissing(ReadOnlySpan{char})"/>); false when it is neither.</summary>
    /// <param name="cell">The trimmed cell.</param>
    /// <param name="decimalComma">Whether the file writes decimals with a comma.</param>
    /// <param name="value">The number, NaN when missing.</param>
    /// <returns>Whether the cell is a number or missing.</returns>
    public static bool TryNumberOrMissing(ReadOnlySpan<char> cell, bool decimalComma, out float value)
    {
        if (TryWholeNumber(cell, out value))
        {
            return true; // no missing marker is all digits
        }

        if (TableSchema.IsMissing(cell))
        {
            value = float.NaN;
            return true;
        }

        return TryNumber(cell, decimalComma, out value);
    }

    /// <summary>
    /// A cell of 1 to 7 decimal digits after an optional sign: read as an integer, which float holds exactly (below
    /// 2^24), so the value is the one <c>float.Parse</c> gives. Anything else (more digits, a point, an exponent) is left
    /// to the parsers.
    /// </summary>
    private static bool TryWholeNumber(ReadOnlySpan<char> cell, out float value)
    {
        value = 0;
        bool negative = !cell.IsEmpty && cell[0] == '-';
        ReadOnlySpan<char> digits = !cell.IsEmpty && cell[0] is '-' or '+' ? cell[1..] : cell;
        if (digits.IsEmpty || digits.Length > 7)
        {
            return false;
        }

        int n = 0;
        foreach (char ch in digits)
        {
            uint d = (uint)(ch - '0');
            if (d > 9)
            {
                return false;
            }

            n = (n * 10) + (int)d;
        }

        value = negative ? -(float)n : n; // "-0" is -0.0f, as float.Parse reads it
        return true;
    }

    // A currency sign before or after, a percent sign after, thousands groups of three digits, the decimal mark of the
    // file. No allocation: in a file with decimal commas every number cell comes here.
    private static bool TrySpreadsheetNumber(ReadOnlySpan<char> cell, bool decimalComma, out float value)
    {
        value = 0;
        ReadOnlySpan<char> s = cell.Trim();
        bool percent = s.EndsWith("%");
        s = s.TrimEnd('%').Trim().Trim("$€£¥").Trim();
        char group = decimalComma ? '.' : ',', point = decimalComma ? ',' : '.';
        if (s.IsEmpty || s.Length > 64 || !GroupsAreValid(s, group, point))
        {
            return false;
        }

        Span<char> plain = stackalloc char[s.Length];
        int n = 0;
        foreach (char ch in s)
        {
            if (ch != group)
            {
                plain[n++] = ch == point ? '.' : ch;
            }
        }

        if (!float.TryParse(plain[..n], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        value = percent ? value / 100 : value;
        return true;
    }

    // Thousands separators, if any, stand between groups of three digits before the decimal mark, the first group 1-3 digits.
    private static bool GroupsAreValid(ReadOnlySpan<char> s, char group, char point)
    {
        int end = s.IndexOf(point);
        ReadOnlySpan<char> whole = (end < 0 ? s : s[..end]).TrimStart("+-");
        int first = whole.IndexOf(group);
        if (first < 0)
        {
            return true;
        }

        if (first is < 1 or > 3 || whole[..first].ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        for (ReadOnlySpan<char> rest = whole[first..]; !rest.IsEmpty; rest = rest[4..])
        {
            if (rest.Length < 4 || rest[0] != group || rest[1..4].ContainsAnyExceptInRange('0', '9'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A date cell in the column's <paramref name="order"/> (ISO dates and dates with month names in any column).</summary>
    public static bool TryDate(string cell, DateOrder order, out DateTime value) => TryDate(cell.AsSpan(), order, out value);

    /// <summary>A date cell read from its characters (see <see cref="TryDate(string, DateOrder, out DateTime)"/>).</summary>
    public static bool TryDate(ReadOnlySpan<char> cell, DateOrder order, out DateTime value)
    {
        const DateTimeStyles Utc = DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces;
        CultureInfo c = CultureInfo.InvariantCulture;
        return DateTime.TryParseExact(cell, IsoDates, c, Utc, out value)
            || DateTime.TryParseExact(cell, NamedDates, c, Utc, out value)
            || (order == DateOrder.MonthFirst && DateTime.TryParseExact(cell, MonthFirstDates, c, Utc, out value))
            || (order == DateOrder.DayFirst && DateTime.TryParseExact(cell, DayFirstDates, c, Utc, out value));
    }

    /// <summary>
    /// The order in which every cell reads as a date: <see cref="DateOrder.None"/> when they all do without one (ISO,
    /// month names), the only order that fits, <paramref name="preferred"/> when both fit (1/2/2000 alone cannot tell),
    /// or null when the cells are not dates.
    /// </summary>
    public static DateOrder? DateOrderOf(IReadOnlyCollection<string> cells, DateOrder preferred) => DateOrderOf(cells, preferred, out _);

    /// <summary>
    /// <see cref="DateOrderOf(IReadOnlyCollection{string}, DateOrder)"/>, and whether the cells themselves fixed the order
    /// (<paramref name="told"/> false when both orders fit and <paramref name="preferred"/> or month first was taken).
    /// </summary>
    public static DateOrder? DateOrderOf(IReadOnlyCollection<string> cells, DateOrder preferred, out bool told)
    {
        told = true;
        if (cells.All(v => TryDate(v, DateOrder.None, out _)))
        {
            return DateOrder.None;
        }

        bool monthFirst = cells.All(v => TryDate(v, DateOrder.MonthFirst, out _));
        bool dayFirst = cells.All(v => TryDate(v, DateOrder.DayFirst, out _));
        told = monthFirst != dayFirst;
        return (monthFirst, dayFirst) switch
        {
            (true, true) => preferred == DateOrder.None ? DateOrder.MonthFirst : preferred,
            (true, false) => DateOrder.MonthFirst,
            (false, true) => DateOrder.DayFirst,
            _ => null,
        };
    }
}
