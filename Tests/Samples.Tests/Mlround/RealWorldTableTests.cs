using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// mlround on the bundled real-world tables (Vega's cars: text, a date, missing numbers and labels; Seattle weather:
/// a text label and a date) with no option but --data and --label: the inferred roles, predictions for rows with
/// every feature missing and unseen categories, and ONNX Runtime scoring the exported featurization and network as
/// the C# model does.
/// </summary>
[TestClass]
public sealed class RealWorldTableTests
{
    [TestMethod, TestCategory(TestLanes.Slow)]
    public void Cars_Regression_RolesInferred_PredictsGappyRows_OnnxMatches()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string model = Path.Combine(dir, "cars.zip"), onnx = Path.Combine(dir, "cars.onnx"), predictions = Path.Combine(dir, "p.csv");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("cars.csv"), "--label", "Miles_per_Gallon", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        // 8 of the 406 cars have no Miles_per_Gallon: skipped with a count.
        StringAssert.Contains(stderr, "note: skipped 8 row(s)");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.AreEqual("regression", json.RootElement.GetProperty("task").GetString());
        var roles = json.RootElement.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("role").GetString());
        Assert.AreEqual("label", roles["Miles_per_Gallon"]);
        Assert.AreEqual("categorical", roles["Origin"]);
        Assert.AreEqual("date", roles["Year"]);
        Assert.AreEqual("numeric", roles["Horsepower"]);
        Assert.AreEqual("ignored", roles["Name"], "a car's name: nearly one per row, free text, dropped by default");
        // Trained on 80 % of the cars, the network predicts the held-out ones well within the labels' spread (sd 7.8 mpg).
        Assert.IsLessThan(5.0, json.RootElement.GetProperty("rmse").GetDouble());

        // Every feature missing and unseen categories, with and without the label column, and extra columns.
        string odd = Path.Combine(dir, "odd.csv");
        File.WriteAllLines(odd, new[]
        {
            "Name,Cylinders,Displacement,Horsepower,Weight_in_lbs,Acceleration,Year,Origin,Colour",
            ",,,,,,,,red",
            "x,NA,?,,,,,Atlantis,",
            "\"a, quoted name\",4,97,88,2130,14.5,1971-01-01,Mars,blue",
            "y,8,350,165,3693,11.5,1970-01-01,USA,",
        });
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", odd, "--out", predictions);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "note: ignoring column 'Colour'");
        float[] oddScores = CliRunner.Rows(File.ReadAllText(predictions)).Select(r => float.Parse(r[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.HasCount(4, oddScores);
        Assert.IsTrue(oddScores.All(float.IsFinite), string.Join(", ", oddScores));

        (code, stdout, stderr) = CliRunner.Run("export", "--model", model, "--out", onnx);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "'Categorical' = Origin");
        AssertOnnxScoresMatch(model, onnx, odd, oddScores);

        string all = Path.Combine(dir, "all.csv");
        Assert.AreEqual(0, CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("cars.csv"), "--out", all).ExitCode);
        float[] carScores = CliRunner.Rows(File.ReadAllText(all)).Select(r => float.Parse(r[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.HasCount(406, carScores, "a prediction for every car, those without a label too");
        AssertOnnxScoresMatch(model, onnx, CliRunner.Data("cars.csv"), carScores);
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    public void SeattleWeather_TextLabels_EndToEnd_OnnxGivesTheLabelValues()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string model = Path.Combine(dir, "weather.zip"), onnx = Path.Combine(dir, "weather.onnx"), predictions = Path.Combine(dir, "p.csv");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("seattle-weather.csv"), "--label", "weather", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.AreEqual("multiclass", json.RootElement.GetProperty("task").GetString());
        Assert.AreEqual("date", json.RootElement.GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "date").GetProperty("role").GetString());
        // Most days are rain or sun (the majority class, sun, is 44 %); the weather's own numbers separate them.
        Assert.IsGreaterThan(0.7, json.RootElement.GetProperty("accuracy").GetDouble());

        Assert.AreEqual(0, CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("seattle-weather.csv"), "--out", predictions).ExitCode);
        string[] lines = File.ReadAllLines(predictions);
        // The classes keep their text; predict writes their scores in ordinal order.
        string[] header = lines[0].Split(',');
        Assert.AreEqual("predicted_label", header[0]);
        CollectionAssert.AreEqual(new[] { "score_drizzle", "score_fog", "score_rain", "score_snow", "score_sun" }, header[1..]);
        string[][] rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.HasCount(1461, rows);
        CollectionAssert.IsSubsetOf(rows.Select(r => r[0]).Distinct().ToArray(), new[] { "drizzle", "rain", "sun", "snow", "fog" });

        Assert.AreEqual(0, CliRunner.Run("export", "--model", model, "--out", onnx).ExitCode);
        var ml = new MLContext();
        var (_, info) = CliModelInfo.Load(ml, model);
        List<TableRow> table = info.Rows(CsvTable.Read(CliRunner.Data("seattle-weather.csv")), false, _ => { });
        using var session = new InferenceSession(onnx);
        using var results = session.Run(Inputs(session, table));
        string[] values = results.Single(r => r.Name == "PredictedLabelValue").AsTensor<string>().ToArray();
        float[] scores = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
        int[] keyOf = Predictions.ScoreColumns(CliModelInfo.Load(ml, model).Model, TableRows.ToDataView(ml, table, info.Table)); // predict writes the classes in ordinal order
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(rows[i][0], values[i], $"row {i}");
            for (int c = 0; c < 5; c++)
            {
                float expected = float.Parse(rows[i][1 + c], CultureInfo.InvariantCulture);
                Assert.AreEqual(expected, scores[(i * 5) + keyOf[c]], 1e-5f * Math.Max(1e-30f, Math.Abs(expected)), $"row {i} class {c}");
            }
        }
    }

    [TestMethod]
    public void Predict_FileUnlikeTheTrainingFile_OneLineNamingTheColumn_NoOutput()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string train = Path.Combine(dir, "train.csv"), model = Path.Combine(dir, "m.zip"), output = Path.Combine(dir, "p.csv");
        File.WriteAllLines(train, new[] { "size,colour,Label" }.Concat(Enumerable.Range(0, 40).Select(i => FormattableString.Invariant($"{i % 7},{(i % 3 == 0 ? "red" : "blue")},{i % 2}"))));
        Assert.AreEqual(0, CliRunner.Run("train", "--data", train, "--epochs", "2", "--out", model).ExitCode);

        (string Csv, string Expected)[] cases =
        {
            ("size,colour\n3,red\nfast,blue\n", "row 3, column 'size': 'fast' is not a number (the column was numeric in training)."),
            ("size\n3\n", "m.zip: needs the column 'colour', which data file"),
            ("colour,weight\nred,3\n", "m.zip: needs the column 'size', which data file"),
        };
        foreach (var (csv, expected) in cases)
        {
            string data = Path.Combine(dir, "new.csv");
            File.WriteAllText(data, csv);
            var (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", data, "--out", output);
            Assert.AreEqual(2, code, stderr);
            StringAssert.Contains(stderr, expected);
            Assert.HasCount(1, stderr.TrimEnd().Split('\n'), stderr);
            Assert.IsFalse(File.Exists(output));
        }

        string unlabelled = Path.Combine(dir, "unlabelled.csv");
        File.WriteAllText(unlabelled, "size,colour\n3,red\n");
        var evaluation = CliRunner.Run("evaluate", "--model", model, "--data", unlabelled);
        Assert.AreEqual(2, evaluation.ExitCode);
        StringAssert.Contains(evaluation.Stderr, "has no column 'Label'; its columns are: size, colour.");
    }

    [TestMethod]
    public void HeaderNamesWithSpacesAndParentheses_QuotedCells_MissingMarkers()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string data = Path.Combine(dir, "houses.csv"), model = Path.Combine(dir, "m.zip"), output = Path.Combine(dir, "p.csv");
        var lines = new List<string> { "\"Floor area (m2)\",Heating type,\"Town, region\",Price (EUR)" };
        for (int i = 0; i < 60; i++)
        {
            string area = i % 10 == 3 ? "NA" : i % 10 == 7 ? "?" : (40 + i).ToString(CultureInfo.InvariantCulture);
            string heating = i % 3 == 0 ? "gas" : i % 3 == 1 ? "\"heat pump, air\"" : "";
            lines.Add($"{area},{heating},\"Town {i % 4}, North\",{(1000 * (40 + i)) + (i % 3 * 5000)}");
        }

        File.WriteAllLines(data, lines);
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", data, "--label", "Price (EUR)", "--epochs", "3", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var roles = json.RootElement.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("role").GetString());
        Assert.AreEqual("numeric", roles["Floor area (m2)"], "NA and ? are missing, the rest numbers");
        Assert.AreEqual("categorical", roles["Heating type"], "a quoted value with a comma is one value");
        Assert.AreEqual("categorical", roles["Town, region"]);
        Assert.AreEqual("label", roles["Price (EUR)"]);

        File.WriteAllLines(Path.Combine(dir, "new.csv"), new[] { "Heating type,\"Town, region\",\"Floor area (m2)\"", "\"heat pump, air\",\"Town 2, North\",75", "oil,,NA" });
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", Path.Combine(dir, "new.csv"), "--out", output);
        Assert.AreEqual(0, code, stderr);
        Assert.HasCount(2, CliRunner.Rows(File.ReadAllText(output)), "columns found by name in any order; a row per input row");
    }

    [TestMethod]
    public void AutomaticNormalization_BinsForFewColumns_MinMaxForWideTables()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        TableSchema Schema(int columns)
        {
            string path = Path.Combine(dir, $"wide{columns}.csv");
            File.WriteAllLines(path, new[] { string.Join(",", Enumerable.Range(0, columns).Select(i => $"p{i}")) + ",Label" }
                .Concat(Enumerable.Range(0, 4).Select(r => string.Join(",", Enumerable.Range(0, columns).Select(i => ((r * i) % 7).ToString(CultureInfo.InvariantCulture))) + $",{r % 2}")));
            return TableSchema.Infer(CsvTable.Read(path), "Label", new TableSchema.Overrides(Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>()));
        }

        Assert.IsTrue(TaskPipeline.UsesBins("auto", Schema(TaskPipeline.MaximumBinnedFeatures)));
        Assert.IsFalse(TaskPipeline.UsesBins("auto", Schema(TaskPipeline.MaximumBinnedFeatures + 1)), "784 pixels: min-max");
        Assert.IsTrue(TaskPipeline.UsesBins("bins", Schema(TaskPipeline.MaximumBinnedFeatures + 1)));
        Assert.IsFalse(TaskPipeline.UsesBins("min-max", Schema(3)));
    }

    [TestMethod]
    public void EveryRole_IsInferredFromTheCells()
    {
        // 12 rows, one column per role: numbers with a gap (and true/false), a column with every cell missing, dates,
        // an identifier, categories, and numbers mixed with a word (then text: categories).
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "roles.csv");
        var lines = new List<string> { "n,empty,when,id,colour,mixed,Label" };
        for (int i = 0; i < 12; i++)
        {
            string n = i == 4 ? "NA" : i == 5 ? "true" : (i * 1.5).ToString(CultureInfo.InvariantCulture);
            lines.Add($"{n},?,2024-01-{i + 1:00},row{i},{(i % 2 == 0 ? "red" : "blue")},{(i == 7 ? "many" : (i % 3).ToString(CultureInfo.InvariantCulture))},{i % 2}");
        }

        File.WriteAllLines(path, lines);
        TableSchema schema = TableSchema.Infer(CsvTable.Read(path), "Label", new TableSchema.Overrides(Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>()));

        var roles = schema.Columns.ToDictionary(c => c.Name, c => (c.Role, c.Why));
        Assert.AreEqual((ColumnRole.Numeric, "numbers"), roles["n"]);
        Assert.AreEqual((ColumnRole.Ignored, "every cell missing"), roles["empty"]);
        Assert.AreEqual(ColumnRole.Date, roles["when"].Role);
        Assert.AreEqual((ColumnRole.Ignored, "identifier (12 distinct values, one per row; --categorical id or --text id to use it)"), roles["id"]);
        Assert.AreEqual((ColumnRole.Categorical, "text, 2 distinct values"), roles["colour"]);
        Assert.AreEqual((ColumnRole.Categorical, "text, 4 distinct values"), roles["mixed"]);
        CollectionAssert.AreEqual(new[] { "n" }, schema.MissingIndicators, "the numeric column with a missing cell gets an indicator");
        Assert.IsFalse(schema.TextLabel);
    }

    [TestMethod]
    public void ReadingRows_ReleasesTheTablesCells_AndASecondReadSaysSo()
    {
        // The numbers are let go as the rows are converted (they dominate the command line's memory on a large CSV); what
        // is left of the table is its header, row count and kept text, and reading its rows again fails naming the file.
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "small.csv");
        File.WriteAllLines(path, new[] { "a,b,Label", "1,x,0", "2,y,1", "NA,x,1" });
        CsvTable table = CsvTable.Read(path);
        TableSchema schema = TableSchema.Infer(table, "Label", new TableSchema.Overrides(Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>()));

        List<TableRow> rows = TableRows.Read(table, schema, labelRequired: true, _ => { });

        CollectionAssert.AreEqual(new[] { 1f, 2f, float.NaN }, rows.Select(r => r.Numeric[0]).ToArray());
        CollectionAssert.AreEqual(new[] { "x", "y", "x" }, rows.Select(r => r.Categorical[0]).ToArray());
        Assert.AreEqual(3, table.RowCount);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => TableRows.Read(table, schema, labelRequired: true, _ => { }));
        StringAssert.Contains(error.Message, $"row 2 of '{path}' was already read.");
    }

    /// <summary>ONNX Runtime's scores of the rows of <paramref name="csv"/> equal the C# model's (relative 1e-5).</summary>
    private static void AssertOnnxScoresMatch(string model, string onnx, string csv, float[] expected)
    {
        var ml = new MLContext();
        var (_, info) = CliModelInfo.Load(ml, model);
        List<TableRow> rows = info.Rows(CsvTable.Read(csv), false, _ => { });
        using var session = new InferenceSession(onnx);
        using var results = session.Run(Inputs(session, rows));
        float[] scores = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
        Assert.HasCount(expected.Length, scores);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], scores[i], 1e-5f * Math.Max(1, Math.Abs(expected[i])), $"row {i}");
        }
    }

    /// <summary>The graph's inputs from the rows as the CLI reads them: Numeric and Gappy floats, Categorical strings.</summary>
    private static NamedOnnxValue[] Inputs(InferenceSession session, List<TableRow> rows)
    {
        var inputs = new List<NamedOnnxValue>();
        foreach (string name in session.InputMetadata.Keys)
        {
            int width = session.InputMetadata[name].Dimensions[1];
            inputs.Add(name switch
            {
                "Numeric" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(rows.SelectMany(r => r.Numeric).ToArray(), new[] { rows.Count, width })),
                "Gappy" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(rows.SelectMany(r => r.Gappy).ToArray(), new[] { rows.Count, width })),
                "Categorical" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<string>(rows.SelectMany(r => r.Categorical).ToArray(), new[] { rows.Count, width })),
                _ => throw new InvalidOperationException($"unexpected graph input '{name}'"),
            });
        }

        return inputs.ToArray();
    }
}
