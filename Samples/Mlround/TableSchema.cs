using System.Globalization;
using System.Text.Json.Serialization;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>What a column of a training table is used as.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnRole>))]
internal enum ColumnRole
{
    /// <summary>Numbers (and true/false); missing cells are replaced by the training mean, with an indicator where training had gaps.</summary>
    Numeric,

    /// <summary>Text with few distinct values: one-hot encoded; a value unseen in training encodes as none of the known ones.</summary>
    Categorical,

    /// <summary>Dates: expanded to year, month, day and day of week (numbers).</summary>
    Date,

    /// <summary>Free text: bag of words and character n-grams (ML.NET's FeaturizeText), only when asked for with --text.</summary>
    Text,

    /// <summary>Not used: free text not asked for, identifiers (a different value on every row), empty columns, --ignore.</summary>
    Ignored,
}

/// <summary>One column of the training table and its role.</summary>
internal sealed record TableColumn(string Name, ColumnRole Role, string Why);

/// <summary>
/// The roles of a training table's columns, inferred from the cells (and overridden by --categorical, --text,
/// --ignore), stored with the model so that <c>predict</c> reads new files the same way. Missing cells: empty,
/// NA, N/A, ?, null, NaN (any case).
/// </summary>
internal sealed record TableSchema(string Label, bool TextLabel, string[]? Classes, TableColumn[] Columns, string[] MissingIndicators)
{
    private static readonly string[] DateFormats = { "yyyy-MM-dd", "yyyy/MM/dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fffZ", "yyyy/MM/dd HH:mm:ss" };

    /// <summary>The numeric features in order: numeric columns, then each date column's year, month, day and day of week.</summary>
    [JsonIgnore]
    public string[] NumericFeatures => Columns.Where(c => c.Role == ColumnRole.Numeric).Select(c => c.Name)
        .Concat(Columns.Where(c => c.Role == ColumnRole.Date).SelectMany(c => new[] { c.Name + ".year", c.Name + ".month", c.Name + ".day", c.Name + ".dayofweek" }))
        .ToArray();

    /// <summary>The categorical columns in order.</summary>
    [JsonIgnore]
    public string[] CategoricalFeatures => Columns.Where(c => c.Role == ColumnRole.Categorical).Select(c => c.Name).ToArray();

    /// <summary>The free-text columns in order.</summary>
    [JsonIgnore]
    public string[] TextFeatures => Columns.Where(c => c.Role == ColumnRole.Text).Select(c => c.Name).ToArray();

    /// <summary>Whether a cell is missing.</summary>
    public static bool IsMissing(string cell) => cell.Length switch
    {
        0 => true,
        1 => cell[0] == '?',
        2 => cell.Equals("NA", StringComparison.OrdinalIgnoreCase),
        3 => cell.Equals("N/A", StringComparison.OrdinalIgnoreCase) || cell.Equals("NaN", StringComparison.OrdinalIgnoreCase),
        4 => cell.Equals("null", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>A number cell (true/false count as 1/0).</summary>
    public static bool TryNumber(string cell, out float value)
    {
        if (cell.Equals("true", StringComparison.OrdinalIgnoreCase) || cell.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            value = cell.Length == 4 ? 1 : 0;
            return true;
        }

        return float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A date cell (ISO 8601 with '-' or '/', optionally with a time).</summary>
    public static bool TryDate(string cell, out DateTime value) =>
        DateTime.TryParseExact(cell, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);

    /// <summary>The roles the user asked for by name.</summary>
    public sealed record Overrides(string[] Categorical, string[] Text, string[] Ignore);

    /// <summary>Infers the roles of <paramref name="table"/>'s columns, with <paramref name="label"/> as the label.</summary>
    /// <exception cref="ArgumentException">The label or an overridden column does not exist (the message names the flag).</exception>
    public static TableSchema Infer(CsvTable table, string label, Overrides overrides)
    {
        int labelIndex = table.ColumnIndex(label);
        CheckOverrides(table, label, overrides);
        // One pass over the rows, in their order, finds the numeric columns and counts each column's present cells
        // (a pass per column over row-major cells cost about 5 s on Fashion-MNIST's 785 columns, 3 s this way); only
        // the other columns are then read column by column to classify their values.
        var (present, numbers) = (new int[table.Header.Length], new bool[table.Header.Length]);
        Array.Fill(numbers, true);
        foreach (string[] row in table.Rows)
        {
            for (int c = 0; c < row.Length; c++)
            {
                if (!IsMissing(row[c]))
                {
                    present[c]++;
                    numbers[c] = numbers[c] && TryNumber(row[c], out _);
                }
            }
        }

        var columns = new List<TableColumn>();
        var gaps = new List<string>();
        for (int c = 0; c < table.Header.Length; c++)
        {
            if (c == labelIndex)
            {
                continue;
            }

            string name = table.Header[c];
            TableColumn column = overrides.Ignore.Contains(name) ? new TableColumn(name, ColumnRole.Ignored, "--ignore")
                : overrides.Categorical.Contains(name) ? new TableColumn(name, ColumnRole.Categorical, "--categorical")
                : overrides.Text.Contains(name) ? new TableColumn(name, ColumnRole.Text, "--text")
                : present[c] == 0 ? new TableColumn(name, ColumnRole.Ignored, "every cell missing")
                : numbers[c] ? new TableColumn(name, ColumnRole.Numeric, "numbers")
                : Classify(name, table.Rows.Select(row => row[c]).Where(cell => !IsMissing(cell)).ToList(), table.RowCount);
            columns.Add(column);
            if (column.Role == ColumnRole.Numeric && present[c] < table.RowCount)
            {
                gaps.Add(name);
            }
        }

        string[] labels = table.Rows.Select(r => r[labelIndex]).Where(v => !IsMissing(v)).ToArray();
        bool textLabel = labels.Any(v => !TryNumber(v, out _));
        return new TableSchema(label, textLabel, null, columns.ToArray(), gaps.ToArray());
    }

    /// <summary>Every column named by a flag exists and is not the label.</summary>
    private static void CheckOverrides(CsvTable table, string label, Overrides overrides)
    {
        foreach (var (flag, names) in new[] { ("--categorical", overrides.Categorical), ("--text", overrides.Text), ("--ignore", overrides.Ignore) })
        {
            foreach (string name in names)
            {
                if (Array.IndexOf(table.Header, name) < 0)
                {
                    throw new ArgumentException($"{flag}: data file '{table.Path}' has no column '{name}'; its columns are: {string.Join(", ", table.Header)}.", flag.TrimStart('-'));
                }

                if (name == label)
                {
                    throw new ArgumentException($"{flag}: '{name}' is the label column.", flag.TrimStart('-'));
                }
            }
        }
    }

    // A column with present cells that are not all numbers: dates, an identifier, categories or free text.
    private static TableColumn Classify(string name, List<string> cells, int rows)
    {
        if (cells.All(v => TryDate(v, out _)))
        {
            return new TableColumn(name, ColumnRole.Date, "dates: year, month, day, day of week");
        }

        int distinct = cells.Distinct(StringComparer.Ordinal).Count();
        if (distinct == cells.Count && rows > 10)
        {
            return new TableColumn(name, ColumnRole.Ignored, $"identifier ({distinct} distinct values, one per row)");
        }

        return distinct <= 100 && (distinct <= 10 || distinct <= cells.Count / 2)
            ? new TableColumn(name, ColumnRole.Categorical, $"text, {distinct} distinct values")
            : new TableColumn(name, ColumnRole.Ignored, $"free text ({distinct} distinct values; --text to use it)");
    }

    /// <summary>The task the label calls for: text or integers with 2 values binary, up to 50 values multiclass, else regression.</summary>
    public QatTask InferTask(IEnumerable<TableRow> rows)
    {
        var distinct = (TextLabel ? rows.Select(r => (object)r.LabelText) : rows.Select(r => (object)r.Label)).Distinct().ToList();
        bool classes = TextLabel || distinct.All(v => (float)v == MathF.Round((float)v));
        return classes && distinct.Count == 2 ? QatTask.BinaryClassification
            : classes && (TextLabel || distinct.Count <= 50) ? QatTask.MulticlassClassification
            : QatTask.Regression;
    }

    /// <summary>A printable list of the roles (--show-columns).</summary>
    public IEnumerable<string> Describe() =>
        new[] { $"{Label}: label ({(TextLabel ? "text" : "numbers")})" }
            .Concat(Columns.Select(c => $"{c.Name}: {c.Role.ToString().ToLowerInvariant()} ({c.Why}{(MissingIndicators.Contains(c.Name) ? "; missing cells: mean and an indicator" : "")})"));
}
