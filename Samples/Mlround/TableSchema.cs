using System.Globalization;
using System.Text.Json.Serialization;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>What a column of a training table is used as.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnRole>))]
internal enum ColumnRole
{
    /// <summary>Numbers (and true/false); missing cells are imputed from the row's other numbers, with an indicator where the training gaps tell something about the label.</summary>
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
/// <param name="Name">The column's name.</param>
/// <param name="Role">What it is used as.</param>
/// <param name="Why">Why (printed by --show-columns, and in the note about a column that is not used).</param>
/// <param name="Order">For a date column, how its slashed dates read (month or day first).</param>
internal sealed record TableColumn(string Name, ColumnRole Role, string Why, DateOrder Order = DateOrder.None);

/// <summary>
/// The roles of a training table's columns, inferred from the cells (and overridden by --categorical, --text,
/// --ignore), stored with the model so that <c>predict</c> reads new files the same way. Missing cells: empty,
/// NA, N/A, ?, null, NaN (any case).
/// </summary>
internal sealed record TableSchema(string Label, bool TextLabel, string[]? Classes, TableColumn[] Columns, string[] MissingIndicators)
{
    /// <summary>The numeric features in order: numeric columns, then each date column's year, month, day and day of week.</summary>
    [JsonIgnore]
    public string[] NumericFeatures => Columns.Where(c => c.Role == ColumnRole.Numeric).Select(c => c.Name)
        .Concat(Columns.Where(c => c.Role == ColumnRole.Date).SelectMany(c => new[] { c.Name + ".year", c.Name + ".month", c.Name + ".day", c.Name + ".dayofweek" }))
        .ToArray();

    /// <summary>The categorical columns in order.</summary>
    [JsonIgnore]
    public string[] CategoricalFeatures => Columns.Where(c => c.Role == ColumnRole.Categorical).Select(c => c.Name).ToArray();

    /// <summary>The columns whose text a table read by this schema must keep: categories, free text, dates, a text label.</summary>
    [JsonIgnore]
    public string[] TextColumns => Columns.Where(c => c.Role is ColumnRole.Categorical or ColumnRole.Text or ColumnRole.Date).Select(c => c.Name)
        .Concat(TextLabel ? new[] { Label } : Array.Empty<string>()).ToArray();

    /// <summary>The free-text columns in order.</summary>
    [JsonIgnore]
    public string[] TextFeatures => Columns.Where(c => c.Role == ColumnRole.Text).Select(c => c.Name).ToArray();

    /// <summary>Whether a cell is missing.</summary>
    public static bool IsMissing(string cell) => IsMissing(cell.AsSpan());

    /// <summary>Whether a (trimmed) cell is missing.</summary>
    public static bool IsMissing(ReadOnlySpan<char> cell) => cell.Length switch
    {
        0 => true,
        1 => cell[0] == '?',
        2 => cell.Equals("NA", StringComparison.OrdinalIgnoreCase),
        3 => cell.Equals("N/A", StringComparison.OrdinalIgnoreCase) || cell.Equals("NaN", StringComparison.OrdinalIgnoreCase),
        4 => cell.Equals("null", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>The roles the user asked for by name.</summary>
    /// <param name="Categorical">--categorical.</param>
    /// <param name="Text">--text.</param>
    /// <param name="Ignore">--ignore.</param>
    /// <param name="Dates">--date: columns read as dates.</param>
    /// <param name="DateOrder">--date-order: how 1/2/2000 reads where the cells do not tell (month first by default).</param>
    public sealed record Overrides(string[] Categorical, string[] Text, string[] Ignore, string[]? Dates = null, DateOrder DateOrder = DateOrder.None)
    {
        /// <summary>Gets the columns whose text the table must keep for these roles, even where every cell is a number.</summary>
        public IEnumerable<string> Named => Categorical.Concat(Text).Concat(Dates ?? Array.Empty<string>());

        /// <summary>No column named: every role inferred.</summary>
        public static readonly Overrides None = new(Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
    }

    /// <summary>Infers the roles of <paramref name="table"/>'s columns, with <paramref name="label"/> as the label.</summary>
    /// <exception cref="ArgumentException">The label or an overridden column does not exist (the message names the flag).</exception>
    public static TableSchema Infer(CsvTable table, string label, Overrides overrides)
    {
        int labelIndex = table.ColumnIndex(label);
        CheckOverrides(table, label, overrides);
        // The table knows which columns hold only numbers and how many cells each has; only the others (whose text it
        // kept) are read cell by cell to classify their values.
        var columns = new List<TableColumn>();
        var gaps = new List<string>();
        for (int c = 0; c < table.Header.Length; c++)
        {
            if (c == labelIndex)
            {
                continue;
            }

            string name = table.Header[c];
            List<string> Cells() => table.Cells(c).Where(cell => !IsMissing(cell)).ToList();
            TableColumn column = overrides.Ignore.Contains(name) ? new TableColumn(name, ColumnRole.Ignored, "--ignore")
                : overrides.Categorical.Contains(name) ? new TableColumn(name, ColumnRole.Categorical, "--categorical")
                : overrides.Text.Contains(name) ? new TableColumn(name, ColumnRole.Text, "--text")
                : overrides.Dates?.Contains(name) == true ? ForcedDate(table, name, Cells(), overrides.DateOrder)
                : table.Present(c) == 0 ? new TableColumn(name, ColumnRole.Ignored, "every cell missing")
                : table.IsNumeric(c) ? new TableColumn(name, ColumnRole.Numeric, "numbers")
                : Classify(name, Cells(), table.RowCount, overrides.DateOrder);
            columns.Add(column);
            if (column.Role == ColumnRole.Numeric && table.Present(c) < table.RowCount)
            {
                gaps.Add(name);
            }
        }

        return new TableSchema(label, !table.IsNumeric(labelIndex), null, columns.ToArray(), gaps.ToArray());
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
    private static TableColumn Classify(string name, List<string> cells, int rows, DateOrder preferred)
    {
        if (CellParsing.DateOrderOf(cells, preferred, out bool told) is { } order)
        {
            return new TableColumn(name, ColumnRole.Date, "dates: year, month, day, day of week" + OrderNote(order, told, preferred), order);
        }

        int distinct = cells.Distinct(StringComparer.Ordinal).Count();
        if (distinct == cells.Count && rows > 10)
        {
            return new TableColumn(name, ColumnRole.Ignored, $"identifier ({distinct} distinct values, one per row; --categorical {name} or --text {name} to use it)");
        }

        return distinct <= 100 && (distinct <= 10 || distinct <= cells.Count / 2)
            ? new TableColumn(name, ColumnRole.Categorical, $"text, {distinct} distinct values")
            : new TableColumn(name, ColumnRole.Ignored, $"free text ({distinct} distinct values; --text {name} to use it)");
    }

    // Why a slashed date reads month or day first: the cells told, --date-order said, or month first was assumed.
    private static string OrderNote(DateOrder order, bool told, DateOrder preferred) => order switch
    {
        DateOrder.None => string.Empty,
        _ when told => $", {Words(order)} (the cells tell)",
        _ when preferred != DateOrder.None => $", {Words(order)} (--date-order)",
        _ => $", {Words(order)} (assumed: the cells do not tell; --date-order dmy for day first)",
    };

    private static string Words(DateOrder order) => order == DateOrder.DayFirst ? "day first" : "month first";

    // --date: every present cell must read as a date.
    private static TableColumn ForcedDate(CsvTable table, string name, List<string> cells, DateOrder preferred) =>
        CellParsing.DateOrderOf(cells, preferred, out bool told) is { } order
            ? new TableColumn(name, ColumnRole.Date, "--date" + OrderNote(order, told, preferred), order)
            : throw new ArgumentException($"--date: column '{name}' of '{table.Path}' has cells that are not dates, e.g. '{cells.First(v => !CellParsing.TryDate(v, DateOrder.MonthFirst, out _) && !CellParsing.TryDate(v, DateOrder.DayFirst, out _))}'.", "date");

    /// <summary>Most classes a numeric label may have to be read as classes.</summary>
    public const int MaximumClasses = 50;

    /// <summary>Fewest training rows per class, on average, for a numeric label to be read as classes.</summary>
    public const int RowsPerClass = 5;

    /// <summary>
    /// The task the label calls for, and why, in words: a text label gives classes (2 values binary); a numeric label is
    /// regression unless its values are whole numbers and either exactly two (binary) or few (at most
    /// <see cref="MaximumClasses"/>) and each seen several times (at least <see cref="RowsPerClass"/> rows per value on
    /// average; multiclass).
    /// Measured on real tables: iowa-electricity's net_generation (40 whole numbers in 40 rows) is regression; digits (10
    /// values in 1,437 rows) and wine (3 in 142) are multiclass, breast_cancer's 0/1 binary.
    /// </summary>
    public (QatTask Task, string Why) InferTask(IEnumerable<TableRow> rows)
    {
        var list = rows.ToList();
        if (TextLabel)
        {
            int values = list.Select(r => r.LabelText).Distinct(StringComparer.Ordinal).Count();
            return (values == 2 ? QatTask.BinaryClassification : QatTask.MulticlassClassification, $"label '{Label}' is text with {values} distinct values; --task to choose");
        }

        var distinct = list.Select(r => r.Label).Distinct().ToList();
        if (!distinct.All(v => v == MathF.Round(v)))
        {
            return (QatTask.Regression, $"label '{Label}' has fractional values; --task to choose");
        }

        string counts = $"{distinct.Count} distinct whole number{(distinct.Count == 1 ? "" : "s")} in {list.Count} training rows";
        bool classes = distinct.Count == 2 || (distinct.Count <= MaximumClasses && list.Count >= RowsPerClass * distinct.Count);
        return classes
            ? (distinct.Count == 2 ? QatTask.BinaryClassification : QatTask.MulticlassClassification, $"label '{Label}': {counts}, read as classes; --task to choose")
            : (QatTask.Regression, $"label '{Label}': {counts}; classes need 2 values, or at most {MaximumClasses} seen {RowsPerClass} times each on average; --task to choose");
    }

    /// <summary>A printable list of the roles (--show-columns).</summary>
    public IEnumerable<string> Describe() =>
        new[] { $"{Label}: label ({(TextLabel ? "text" : "numbers")})" }
            .Concat(Columns.Select(c => $"{c.Name}: {c.Role.ToString().ToLowerInvariant()} ({c.Why}{(MissingIndicators.Contains(c.Name) ? "; missing cells: imputed from the other numbers, with an indicator" : "")})"));
}
