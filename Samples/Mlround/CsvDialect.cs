using System.Text.RegularExpressions;

namespace MlRounding.Cli;

/// <summary>How a CSV file writes its cells: the separator, and whether numbers take a decimal comma.</summary>
internal static partial class CsvDialect
{
    private static readonly char[] Candidates = { ',', ';', '\t', '|' };

    /// <summary>The separator of <paramref name="lines"/> (the header and the first rows): the candidate that splits the header into the most cells and every sampled row into as many; ',' when none does.</summary>
    public static char Separator(IReadOnlyList<string> lines)
    {
        char best = ',';
        int bestCount = 0;
        foreach (char c in Candidates)
        {
            int count = Count(lines[0], c);
            if (count > bestCount && lines.Skip(1).All(l => Count(l, c) == count))
            {
                (best, bestCount) = (c, count);
            }
        }

        return best;
    }

    /// <summary>Whether numbers use a decimal comma: the file is not comma-separated and some cell is a number written with one (3,5 or 1.234,5).</summary>
    public static bool DecimalComma(IReadOnlyList<string> lines, char separator) =>
        separator != ',' && lines.Skip(1).SelectMany(l => l.Split(separator)).Any(cell => CommaNumber().IsMatch(cell.Trim().Trim('"')));

    /// <summary>A separator's name in messages.</summary>
    public static string Name(char separator) => separator == '\t' ? "tab" : separator.ToString();

    // The separators outside double quotes.
    private static int Count(string line, char separator)
    {
        int count = 0;
        bool quoted = false;
        foreach (char ch in line)
        {
            quoted ^= ch == '"';
            count += !quoted && ch == separator ? 1 : 0;
        }

        return count;
    }

    [GeneratedRegex(@"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$")]
    private static partial Regex CommaNumber();
}
