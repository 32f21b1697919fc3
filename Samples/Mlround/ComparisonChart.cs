using MlRounding.Trainers;
using ScottPlot;

namespace MlRounding.Cli;

/// <summary>Draws the first metric against weight bits: quantization-aware, learned rounding and post-training, with the float model as a line.</summary>
internal static class ComparisonChart
{
    public static void Save(string path, IReadOnlyList<ComparisonRow> rows, QatTask task)
    {
        string metric = rows[0].Metrics.Keys.First();
        var plot = new Plot();
        foreach (var (mode, legend) in new[] { ("qat", "quantization-aware"), ("learned", "learned rounding"), ("ptq", "post-training (nearest)") })
        {
            var points = rows.Where(r => r.Mode.EndsWith(mode, StringComparison.Ordinal) && !r.Mode.StartsWith("mlp-", StringComparison.Ordinal)).OrderBy(r => r.WeightBits).ToArray();
            var line = plot.Add.ScatterLine(points.Select(r => (double)r.WeightBits).ToArray(), points.Select(r => r.Metrics[metric]).ToArray());
            line.LegendText = legend;
            line.MarkerSize = 8;
        }

        var reference = plot.Add.HorizontalLine(rows.First(r => r.Mode.EndsWith("float", StringComparison.Ordinal)).Metrics[metric]);
        reference.LegendText = "float";
        reference.LinePattern = LinePattern.Dashed;
        if (rows.FirstOrDefault(r => r.Mode == "lightgbm") is { } peer)
        {
            var lightGbm = plot.Add.HorizontalLine(peer.Metrics[metric]);
            lightGbm.LegendText = "ML.NET LightGbm";
            lightGbm.LinePattern = LinePattern.Dotted;
        }
        plot.Title($"{metric} against weight bits (activations 8 bits)");
        plot.XLabel("weight bits");
        plot.YLabel(metric);
        plot.ShowLegend(Alignment.LowerRight);
        AtomicFile.Write(path, temp => plot.SavePng(temp, 800, 500));
    }
}
