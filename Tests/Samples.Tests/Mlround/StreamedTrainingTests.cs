using System.CommandLine;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Cli;
using MlRounding.Trainers;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// <c>train --stream</c>: the rows are read from the file on every pass (the trainer's streamed rows), with the same
/// model as the same rows held in memory and streamed to the trainer in the same order; held-out rows by a seeded
/// hash; a row that does not fit fails as one line with no model written.
/// </summary>
[TestClass]
public sealed class StreamedTrainingTests
{
    [TestMethod]
    public void Stream_GivesTheModelOfTheSameRowsHeldInMemory_BitForBit()
    {
        using var temp = new TempFolder();
        string data = CliRunner.Data("seattle-weather.csv"), model = temp.File("m.zip");
        string[] flags = { "--weight-bits", "4", "--epochs", "3" };
        var (code, _, stderr) = CliRunner.Run(new[] { "train", "--data", data, "--test-data", data, "--label", "weather", "--stream", "--out", model }.Concat(flags).ToArray());
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "note: streaming");

        // The same rows in memory, through the same pipeline and options, streamed to the trainer (StreamRows) in file order.
        var trainingFlags = new TrainingFlags();
        var command = new RootCommand();
        foreach (Option option in trainingFlags.All)
        {
            command.Options.Add(option);
        }

        QatOptions options = trainingFlags.Options(command.Parse(flags), CancellationToken.None);
        options.StreamRows = true;
        CsvTable table = CsvTable.Read(data);
        TableSchema schema = TableSchema.Infer(table, "weather", TableSchema.Overrides.None);
        var rows = TableRows.Read(table, schema, labelRequired: true, _ => { });
        var ml = new MLContext(seed: options.Seed);
        var view = TableRows.ToDataView(ml, rows, schema);
        ITransformer inMemory = TaskPipeline.Build(ml, QatTask.MulticlassClassification, options, schema, TaskPipeline.UsesBins("auto", schema)).Fit(view);

        var (streamed, _) = CliModelInfo.Load(ml, model);
        float[][] expected = Scores(inMemory, view), actual = Scores(streamed, view);
        Assert.HasCount(rows.Count, actual);
        for (int i = 0; i < rows.Count; i++)
        {
            CollectionAssert.AreEqual(expected[i].Select(BitConverter.SingleToInt32Bits).ToArray(), actual[i].Select(BitConverter.SingleToInt32Bits).ToArray(), $"row {i}: the same bits");
        }
    }

    [TestMethod]
    public void HeldOutRows_AreAboutTheFraction_TheSameOnEveryPass_AndFollowTheSeed()
    {
        int held = Enumerable.Range(0, 100_000).Count(i => Holdout.IsHeld(i, 0.2, 1));
        Assert.IsTrue(held is > 19_500 and < 20_500, $"{held} of 100,000 held out at 0.2");
        Assert.IsTrue(Enumerable.Range(0, 1000).All(i => Holdout.IsHeld(i, 0.2, 1) == Holdout.IsHeld(i, 0.2, 1)));
        Assert.IsTrue(Enumerable.Range(0, 1000).Any(i => Holdout.IsHeld(i, 0.2, 1) != Holdout.IsHeld(i, 0.2, 2)), "another seed, other rows");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Holdout.IsHeld(0, 1.5, 1));
    }

    [TestMethod]
    public void Stream_ARowThatDoesNotFit_IsOneLine_AndNoModel()
    {
        using var temp = new TempFolder();
        string data = temp.File("t.csv");
        var lines = new List<string> { "x,y,Label" };
        lines.AddRange(Enumerable.Range(0, 12_000).Select(i => $"{i % 13},{i % 7},{i % 2}"));
        lines[11_000] = "7,seven,1"; // after the 10,000 rows the roles come from
        File.WriteAllLines(data, lines);

        var (code, _, stderr) = CliRunner.Run("train", "--data", data, "--stream", "--epochs", "1", "--out", temp.File("m.zip"));

        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, "row 11001, column 'y': 'seven' is not a number (the column is numeric)");
        Assert.HasCount(1, stderr.TrimEnd().Split('\n').Where(l => l.StartsWith("error", StringComparison.Ordinal)).ToArray());
        Assert.IsFalse(File.Exists(temp.File("m.zip")));
    }

    [TestMethod]
    public void AFileLargerThanAQuarterOfTheAvailableMemory_IsStreamed_WithoutTheFlag()
    {
        // A sparse file: its length is what the rule reads, and no disk space is used.
        using var temp = new TempFolder();
        string path = temp.File("large.csv");
        long quarter = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;
        using (var file = File.Create(path))
        {
            file.SetLength(quarter);
        }

        Assert.IsFalse(MlRounding.Cli.Commands.TrainCommand.TooLargeToHold(path), "a quarter exactly: held");
        using (var file = File.OpenWrite(path))
        {
            file.SetLength(quarter + 1);
        }

        Assert.IsTrue(MlRounding.Cli.Commands.TrainCommand.TooLargeToHold(path), "more than a quarter: streamed");
        Assert.IsFalse(MlRounding.Cli.Commands.TrainCommand.TooLargeToHold(CliRunner.Data("cars.csv")));
    }

    private static float[][] Scores(ITransformer model, IDataView rows) =>
        model.Transform(rows).GetColumn<float[]>("Score").ToArray();
}
