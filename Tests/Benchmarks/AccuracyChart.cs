using System.Globalization;
using ScottPlot;

namespace MlRounding.Benchmarks;

/// <summary>
/// <c>-- accuracy-chart IN.csv OUT.png</c>: test accuracy against model bytes (log scale), one labelled point per row of a
/// CSV with the columns <c>series,label,bytes,accuracy</c> (the means recorded in docs/benchmarks.md), one colour per series.
/// </summary>
internal static class AccuracyChart
{
    public static void Run(string input, string output, TextWriter log)
    {
        var rows = File.ReadAllLines(input).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))
            .Select(c => (Series: c[0], Label: c[1], Bytes: double.Parse(c[2], CultureInfo.InvariantCulture), Accuracy: double.Parse(c[3], CultureInfo.InvariantCulture)))
            .ToList();
        var plot = new Plot();
        foreach (var series in rows.GroupBy(r => r.Series))
        {
            var points = series.OrderBy(r => r.Bytes).ToArray();
            var scatter = plot.Add.ScatterPoints(points.Select(p => Math.Log10(p.Bytes)).ToArray(), points.Select(p => p.Accuracy).ToArray());
            scatter.LegendText = series.Key;
            scatter.MarkerSize = 9;
            foreach (var p in points)
            {
                var text = plot.Add.Text(p.Label, Math.Log10(p.Bytes), p.Accuracy);
                text.LabelFontSize = 11;
                text.LabelOffsetX = 6;
            }
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            new[] { 3.0, 4, 5, 6 }.Select(e => new Tick(e, FormattableString.Invariant($"{Math.Pow(10, e):N0}"))).ToArray());
        double lo = Math.Log10(rows.Min(r => r.Bytes)), hi = Math.Log10(rows.Max(r => r.Bytes));
        plot.Axes.SetLimitsX(lo - 0.1, hi + 0.3);
        plot.Title("Test accuracy against model bytes (" + Path.GetFileNameWithoutExtension(input) + ")");
        plot.XLabel("model bytes (log scale; zip bytes for ML.NET's trainers)");
        plot.YLabel("test accuracy, %");
        plot.ShowLegend(Alignment.LowerRight);
        string temp = output + ".tmp.png";
        plot.SavePng(temp, 900, 560);
        File.Move(temp, output, overwrite: true);
        log.WriteLine($"wrote {output}");
    }
}
