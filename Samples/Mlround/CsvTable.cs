using System.Globalization;

namespace MlRounding.Cli;

/// <summary>A CSV file with a header whose cells are all numbers (the input of <c>mlround compare</c>).</summary>
internal sealed class CsvTable
{
    private CsvTable(string[] header, float[][] rows)
    {
        Header = header;
        Rows = rows;
    }

    public string[] Header { get; }

    public float[][] Rows { get; }

    /// <summary>Reads the file; "true"/"false" count as 1/0. Errors name the file, row and column.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty or a cell is not a number.</exception>
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"data file '{path}' does not exist.", path);
        }

        using var reader = new StreamReader(path);
        string? headerLine = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(headerLine))
        {
            throw new FormatException($"data file '{path}' is empty: expected a header row and data rows.");
        }

        string[] header = headerLine.Split(',').Select(h => h.Trim()).ToArray();
        var rows = new List<float[]>();
        string? line;
        int number = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            string[] cells = line.Split(',');
            if (cells.Length != header.Length)
            {
                throw new FormatException($"{path} row {number}: {cells.Length} cells, the header has {header.Length}.");
            }

            var values = new float[cells.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                string cell = cells[c].Trim();
                values[c] = cell.Equals("true", StringComparison.OrdinalIgnoreCase) ? 1
                    : cell.Equals("false", StringComparison.OrdinalIgnoreCase) ? 0
                    : float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v
                    : throw new FormatException($"{path} row {number}, column '{header[c]}': '{cell}' is not a number (features must be numeric).");
            }

            rows.Add(values);
        }

        if (rows.Count == 0)
        {
            throw new FormatException($"data file '{path}' has a header but no data rows.");
        }

        return new CsvTable(header, rows.ToArray());
    }

    public int ColumnIndex(string name)
    {
        int index = Array.FindIndex(Header, h => h.Equals(name, StringComparison.Ordinal));
        return index >= 0 ? index : throw new ArgumentException($"unknown column '{name}'; the columns are: {string.Join(", ", Header)}.", "label");
    }
}
